import assert from "node:assert/strict";
import { loadConfig } from "../../lib/config.ts";

const from = (vars: Record<string, string>) => loadConfig((key) => vars[key]);

Deno.test("loadConfig() defaults: 1 worker x 2 threads, no spinning, WASM backend", () => {
  const config = from({});
  assert.equal(config.workers, 1);
  assert.equal(config.threadsPerWorker, 2);
  assert.equal(config.spin, false);
  assert.equal(config.backend, "web");
});

Deno.test("loadConfig() reads AMODAL_THREADS and AMODAL_SPIN", () => {
  const config = from({ AMODAL_THREADS: "1", AMODAL_SPIN: "1" });
  assert.equal(config.threadsPerWorker, 1);
  assert.equal(config.spin, true);
  assert.equal(from({ AMODAL_THREADS: "0" }).threadsPerWorker, 1);
  assert.throws(() => from({ AMODAL_THREADS: "two" }), /AMODAL_THREADS: "two" is not a non-negative number/);
});
