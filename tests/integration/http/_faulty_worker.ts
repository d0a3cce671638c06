/**
 * An inference worker with fault injection, for the pool's crash and deadline tests: a body that
 * starts with `AMODAL-TEST-CRASH` throws outside the job's promise chain (as a WASM abort would), one
 * that starts with `AMODAL-TEST-HANG` spins until the deadline terminates the worker.
 *
 * @module
 */
import { serveJobs } from "../../../lib/worker/serve_jobs.ts";

serveJobs({
  async beforeJob(input) {
    const bytes = input.bytes ?? new Uint8Array(0);
    const head = new TextDecoder().decode(bytes.subarray(0, 32));
    if (head.startsWith("AMODAL-TEST-CRASH")) {
      setTimeout(() => {
        throw new Error("test-induced worker crash");
      });
      await new Promise(() => {});
    }
    if (head.startsWith("AMODAL-TEST-HANG")) {
      while (true) { /* spin until the deadline terminates the worker */ }
    }
  },
});
