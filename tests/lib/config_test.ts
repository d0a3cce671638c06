import assert from "node:assert/strict";
import { join, resolve } from "node:path";
import { denoTask, loadConfig, REPO_ROOT } from "../../lib/config.ts";

const from = (vars: Record<string, string>) => loadConfig((key) => vars[key]);

Deno.test("loadConfig() defaults: 1 worker x 2 threads, no spinning, WASM backend, encoder and translator apart", () => {
  const config = from({});
  assert.equal(config.workers, 1);
  assert.equal(config.threadsPerWorker, 2);
  assert.equal(config.spin, false);
  assert.equal(config.fuse, false);
  assert.equal(from({ AMODAL_FUSE: "1" }).fuse, true);
  assert.equal(config.backend, "web");
});

Deno.test("loadConfig() reads AMODAL_THREADS and AMODAL_SPIN", () => {
  const config = from({ AMODAL_THREADS: "1", AMODAL_SPIN: "1" });
  assert.equal(config.threadsPerWorker, 1);
  assert.equal(config.spin, true);
  assert.equal(from({ AMODAL_THREADS: "0" }).threadsPerWorker, 1);
  assert.throws(() => from({ AMODAL_THREADS: "two" }), /AMODAL_THREADS: "two" is not a non-negative number/);
});

Deno.test("loadConfig() resolves every path from AMODAL_* variables relative to the repository root", async (t) => {
  const root = REPO_ROOT;
  const shared = resolve(root, "../shared");
  const cases: { env: Record<string, string>; want: Record<string, string> }[] = [
    {
      env: {},
      want: {
        sharedDir: shared,
        weightsDir: join(shared, "weights"),
        corpusDir: join(shared, "corpus"),
        cacheDir: join(root, ".cache"),
        modelsDir: join(root, "models"),
        dataDir: join(root, "data"),
        python: "/usr/bin/python3",
      },
    },
    {
      env: { AMODAL_SHARED_DIR: "/srv/shared" },
      want: { weightsDir: "/srv/shared/weights", corpusDir: "/srv/shared/corpus" },
    },
    {
      env: { AMODAL_CACHE_DIR: "/tmp/c", AMODAL_WEIGHTS_DIR: "w", AMODAL_DATA_DIR: "d", AMODAL_PYTHON: "py" },
      want: { cacheDir: "/tmp/c", weightsDir: join(root, "w"), dataDir: join(root, "d"), python: "py" },
    },
    { env: { AMODAL_CORPUS_DIR: "/c", AMODAL_MODELS_DIR: "/m" }, want: { corpusDir: "/c", modelsDir: "/m" } },
  ];
  for (const { env, want } of cases) {
    await t.step(JSON.stringify(env), () => {
      const config = from(env) as unknown as Record<string, unknown>;
      for (const [key, value] of Object.entries(want)) assert.equal(config[key], value, key);
    });
  }
});

Deno.test("loadConfig() refuses malformed numbers and backends, naming the variable", async (t) => {
  const cases: [Record<string, string>, RegExp][] = [
    [{ PORT: "eighty" }, /PORT: "eighty"/],
    [{ AMODAL_MAX_BODY_BYTES: "-1" }, /AMODAL_MAX_BODY_BYTES/],
    [{ AMODAL_WORKERS: "NaN" }, /AMODAL_WORKERS/],
    [{ AMODAL_BACKEND: "gpu" }, /AMODAL_BACKEND: "gpu"/],
  ];
  for (const [env, message] of cases) {
    await t.step(JSON.stringify(env), () => assert.throws(() => from(env), message));
  }
});

Deno.test("denoTask() quotes the README's Deno command", () => {
  assert.equal(denoTask("data"), "npx --yes deno@2.9.6 task data");
});
