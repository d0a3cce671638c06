import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeWav } from "../../../lib/media/encode_wav.ts";
import { REPO_ROOT } from "../../../lib/config.ts";
import { startTaskFlags } from "../../../scripts/shared/local_server.ts";
import { post, serverTest, SHARED, startTestService } from "./_service.ts";

const photo = () => {
  const dir = join(SHARED, "corpus/images/gpiosenka/violin");
  const name = Array.from(Deno.readDirSync(dir)).map((e) => e.name).sort()[0]!;
  return Deno.readFile(join(dir, name));
};
const wav = () => encodeWav(new Float32Array(16000).map((_, i) => 0.2 * Math.sin(i / 5)), 16000);
const loaded = async (url: string): Promise<string[]> => (await (await fetch(`${url}/healthz`)).json()).loaded;

Deno.test("parts load by modality on first use, and /healthz says which", serverTest, async (t) => {
  const service = await startTestService({ warmup: [] });
  try {
    await t.step("nothing is loaded at start", async () => {
      assert.deepEqual(await loaded(service.url), []);
    });
    await t.step("?space=encoder loads neither translator nor forest", async () => {
      const res = await post(`${service.url}/v1/embed?space=encoder`, await photo());
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.deepEqual(await loaded(service.url), ["encoder:mobilenet_v2", "sharp"]);
    });
    await t.step("a photo: sharp and the image path, no ffmpeg, no YAMNet", async () => {
      const res = await post(`${service.url}/v1/classify`, await photo());
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.deepEqual(await loaded(service.url), ["encoder:mobilenet_v2", "sharp", "translator:image"]);
    });
    await t.step("a WAV then loads YAMNet, still no ffmpeg", async () => {
      const res = await post(`${service.url}/v1/classify`, wav());
      assert.equal(res.status, 200, JSON.stringify(res.json));
      const parts = await loaded(service.url);
      assert.ok(parts.includes("encoder:yamnet") && parts.includes("translator:audio"), parts.join());
      assert.ok(!parts.includes("ffmpeg"), parts.join());
    });
  } finally {
    await service.close();
  }
});

Deno.test("AMODAL_WORKERS=0 serves the same API from the main isolate", serverTest, async (t) => {
  const service = await startTestService({ workers: 0 });
  try {
    await t.step("a photo and a sound are classified", async () => {
      for (const body of [await photo(), wav()]) {
        const res = await post(`${service.url}/v1/classify?top_k=3`, body);
        assert.equal(res.status, 200, JSON.stringify(res.json));
        assert.equal((res.json.scores as unknown[]).length, 3);
      }
    });
    await t.step("encoder embeddings and bad input behave as with workers", async () => {
      const res = await post(`${service.url}/v1/embed?space=encoder`, await photo());
      assert.equal(res.json.dim, 1280);
      const bad = await post(`${service.url}/v1/classify`, (await photo()).slice(0, 300));
      assert.equal(bad.status, 422);
      assert.equal(bad.type, "application/problem+json");
    });
    await t.step("/healthz reports no workers", async () => {
      const health = await (await fetch(`${service.url}/healthz`)).json();
      assert.equal(health.workers.workers, 0);
      assert.ok(health.loaded.includes("encoder:mobilenet_v2"));
    });
  } finally {
    await service.close();
  }
});

for (const workers of ["1", "0"]) {
  Deno.test(`deno serve serve.ts answers (AMODAL_WORKERS=${workers})`, serverTest, async () => {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (listener.addr as Deno.NetAddr).port;
    listener.close();
    const child = new Deno.Command(Deno.execPath(), {
      args: ["serve", `--port=${port}`, "--host=127.0.0.1", ...await startTaskFlags(), "serve.ts"],
      cwd: REPO_ROOT,
      // Only what the service reads: the test runner's own environment is not passed on.
      clearEnv: true,
      env: { AMODAL_WORKERS: workers, HOME: Deno.env.get("HOME") ?? "/tmp", PATH: Deno.env.get("PATH") ?? "" },
      // An inherited stdin kept `deno serve` from ever listening when spawned from a test.
      stdin: "null",
      stdout: "null",
      stderr: "null",
    }).spawn();
    try {
      let res: Awaited<ReturnType<typeof post>> | undefined;
      for (let i = 0; i < 600 && !res; i++) {
        res = await post(`http://127.0.0.1:${port}/v1/classify`, await photo()).catch(() => undefined);
        if (!res) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(res?.status, 200, JSON.stringify(res?.json));
      assert.equal(res.json.modality, "image");
    } finally {
      // SIGTERM ends it (serve.ts stops the Workers that would otherwise keep the process alive).
      child.kill("SIGTERM");
      assert.equal((await child.status).code, 0);
    }
  });
}
