import assert from "node:assert/strict";
import { encodeWav } from "../../../lib/media/encode_wav.ts";
import { FAULTY_WORKER, post, serverTest, startTestService } from "./_service.ts";

const wav = () => encodeWav(new Float32Array(16000).map((_, i) => 0.2 * Math.sin(i / 5)), 16000);
const magic = (text: string) => new TextEncoder().encode(text.padEnd(64, " "));

/** A replacement worker loads its models before it takes work; wait for that as /healthz shows it. */
async function untilReady(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const body = await (await fetch(`${url}/healthz`)).json();
    if (body.workers.ready === body.workers.workers) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("worker did not come back within 60 s");
}

Deno.test("a crashed or hung worker is replaced and later requests succeed", serverTest, async (t) => {
  const service = await startTestService({ requestTimeoutMs: 6000 }, { workerUrl: FAULTY_WORKER });
  const embed = `${service.url}/v1/embed?space=encoder`;
  try {
    await t.step("crash -> 500 problem, worker replaced", async () => {
      const res = await post(embed, magic("AMODAL-TEST-CRASH"));
      assert.equal(res.status, 500);
      assert.equal(res.type, "application/problem+json");
      assert.equal(service.pool.stats().restarts, 1);
      await untilReady(service.url);
      const ok = await post(embed, wav());
      assert.equal(ok.status, 200, JSON.stringify(ok.json));
    });
    await t.step("hang -> 504 problem at the deadline, worker replaced", async () => {
      const res = await post(embed, magic("AMODAL-TEST-HANG"));
      assert.equal(res.status, 504);
      assert.equal(res.type, "application/problem+json");
      assert.equal(service.pool.stats().restarts, 2);
      await untilReady(service.url);
      const ok = await post(embed, wav());
      assert.equal(ok.status, 200, JSON.stringify(ok.json));
    });
  } finally {
    await service.close();
  }
});

Deno.test("a worker crash under load loses no other request", serverTest, async () => {
  const service = await startTestService({ workers: 2, requestTimeoutMs: 20_000 }, { workerUrl: FAULTY_WORKER });
  const embed = `${service.url}/v1/embed?space=encoder`;
  try {
    const bodies = [wav(), wav(), magic("AMODAL-TEST-CRASH"), wav(), wav(), wav(), wav()];
    const results = await Promise.all(bodies.map((body) => post(embed, body)));
    assert.deepEqual(results.map((r) => r.status), [200, 200, 500, 200, 200, 200, 200]);
    assert.equal(service.pool.stats().restarts, 1);
  } finally {
    await service.close();
  }
});

Deno.test("a full queue answers 503 with Retry-After", serverTest, async () => {
  const service = await startTestService({ queueSize: 1, workers: 1 });
  const embed = `${service.url}/v1/embed?space=encoder`;
  try {
    // Four different files: the content cache would answer identical ones from one job.
    const long = (k: number) =>
      encodeWav(new Float32Array(16000 * 20).map((_, i) => 0.2 * Math.sin(i / (7 + k))), 16000);
    const results = await Promise.all(Array.from({ length: 4 }, (_, k) => post(embed, long(k))));
    const statuses = results.map((r) => r.status).sort();
    assert.deepEqual(statuses, [200, 200, 503, 503]);
    const refused = results.find((r) => r.status === 503)!;
    assert.equal(refused.headers.get("retry-after"), "1");
    assert.equal(refused.type, "application/problem+json");
  } finally {
    await service.close();
  }
});
