import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeWav } from "../../../lib/media/encode_wav.ts";
import { judgeBatch, structuralBatchCases } from "../../../scripts/shared/hostile_batches.ts";
import { buildWav, int16Bytes } from "../../lib/media/_audio.ts";
import { serverTest, SHARED, startTestService } from "../http/_service.ts";
import { DEADLINE_MS, MAX_BODY_BYTES, testSignal } from "./_hostile.ts";

/** Items per batch on this service: small, so the "over the bound" cases stay cheap. */
const MAX_ITEMS = 8;

Deno.test(
  "POST /v1/batch: hostile batches get 4xx or per-item 4xx, never a 5xx, and evict nobody's results",
  serverTest,
  async (t) => {
    const service = await startTestService({
      requestTimeoutMs: DEADLINE_MS,
      maxBodyBytes: MAX_BODY_BYTES,
      batchMaxItems: MAX_ITEMS,
      workers: 1,
      queueSize: 8,
    });
    const photoDir = join(SHARED, "corpus/images/gpiosenka/violin");
    const photo = await Deno.readFile(join(photoDir, [...Deno.readDirSync(photoDir)].map((e) => e.name).sort()[0]!));
    const wav = encodeWav(testSignal(16000, 1), 16000);
    // 7 bits per sample gives block align 7/8 -> 0: a header that contradicts itself.
    const inconsistentWav = buildWav({
      formatTag: 1,
      channels: 1,
      rate: 16000,
      bits: 7,
      data: int16Bytes([testSignal(16000, 0.5)]),
    });
    try {
      // Another client's result, cached before the hostile batches arrive.
      const other = encodeWav(testSignal(22050, 2), 22050);
      const first = await fetch(`${service.url}/v1/classify`, { method: "POST", body: other });
      assert.equal(first.status, 200);
      const { sha256, model } = await first.json();
      const stillCached = async () =>
        (await fetch(`${service.url}/v1/results/${sha256}?model=${model}`)).headers.get("x-cache") === "hit";

      await t.step("a WAV header that contradicts itself gets 422 on its own", async () => {
        const res = await fetch(`${service.url}/v1/classify`, {
          method: "POST",
          body: new Uint8Array(inconsistentWav),
        });
        assert.equal(res.status, 422);
        assert.equal(res.headers.get("content-type"), "application/problem+json");
        assert.match((await res.json()).detail, /inconsistent header: block align 0 .* 7-bit/);
      });

      const cases = structuralBatchCases({
        valid: [wav, photo],
        maxItems: MAX_ITEMS,
        maxBodyBytes: MAX_BODY_BYTES,
        inconsistentWav,
      });
      const tally: Record<string, number> = {};
      const items: Record<string, number> = {};
      const failures: string[] = [];
      await t.step(`${cases.length} structural cases`, async () => {
        for (const c of cases) {
          const body = c.body instanceof Uint8Array ? new Uint8Array(c.body) : c.body;
          const res = await fetch(`${service.url}/v1/batch`, {
            method: "POST",
            body,
            headers: c.headers,
            signal: AbortSignal.timeout(2 * DEADLINE_MS),
          });
          const verdict = await judgeBatch(res, c);
          assert.ok(verdict.ok, `${c.name}: ${JSON.stringify(verdict)}`);
          tally[verdict.status] = (tally[verdict.status] ?? 0) + 1;
          for (const [status, n] of Object.entries(verdict.items)) items[status] = (items[status] ?? 0) + n;
        }
        assert.deepEqual(failures, []);
        console.log(`batch hostile: ${cases.length} requests ${JSON.stringify(tally)}, items ${JSON.stringify(items)}`);
      });

      await t.step("the other client's cached result is still there; the service is unharmed", async () => {
        assert.ok(await stillCached(), "a hostile batch evicted another client's result");
        assert.equal(service.pool.stats().restarts, 0);
        const res = await fetch(`${service.url}/v1/classify`, { method: "POST", body: photo });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get("x-cache"), "hit", "the photo's result came from the duplicate batches");
      });
    } finally {
      await service.close();
    }
  },
);
