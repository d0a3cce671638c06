/**
 * The inference worker with a memory probe (`burst_probe.ts`): the production worker body (`serveJobs`),
 * plus a report of this isolate's WebAssembly memories and V8 heap on the `amodal-probe` BroadcastChannel
 * every 50 ms (while the thread is not busy inside a synchronous WASM call) and after each job.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { wasmMemoryBytes } from "./wasm_memories.ts";
import { serveJobs } from "../../lib/worker/serve_jobs.ts";

const id = crypto.randomUUID().slice(0, 8);
const channel = new BroadcastChannel("amodal-probe");
const report = () => {
  const { heapTotal, heapUsed, external } = Deno.memoryUsage();
  channel.postMessage({ worker: id, wasm: wasmMemoryBytes(), heapTotal, heapUsed, external });
};
setInterval(report, 50);
serveJobs({ beforeJob: () => Promise.resolve(void setTimeout(report, 0)) });
