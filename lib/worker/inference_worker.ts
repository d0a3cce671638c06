/**
 * Worker entry: owns one {@linkcode Pipeline} and answers job messages.
 *
 * Protocol (see pool.ts): `{type:"init", config, encoders}` -> `{type:"ready"}`
 * or `{type:"fatal", message}`; `{type:"job", id, op, bytes, options}` ->
 * `{type:"result", id, ok, result | error}`.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { ProblemError } from "../errors.ts";
import { type EncoderFiles, Pipeline } from "../pipeline.ts";
import type { Config } from "../config.ts";
import { warmupInputs } from "./warmup_inputs.ts";
import { createReclaimer } from "./reclaim.ts";

let pipeline: Pipeline | undefined;
let testHooks = false;
const reclaimer = createReclaimer();

/** Bytes that make a worker crash or hang when test hooks are on (never in production). */
const CRASH_MAGIC = "AMODAL-TEST-CRASH";
const HANG_MAGIC = "AMODAL-TEST-HANG";

self.onmessage = async (event: MessageEvent) => {
  const msg = event.data;
  if (msg.type === "init") {
    try {
      const config = msg.config as Config;
      testHooks = config.testHooks;
      // sharp's first calls (module compile, its thread pool) overlap the WASM session loads:
      // measured 4.0 s instead of 6.3 s to ready on the loaded 2-core machine. Not with the
      // native backend: sharp's import briefly reports process.arch "wasm32" (lib/media/sharp.ts),
      // and onnxruntime-node, imported meanwhile, would look for a wasm32 binary.
      const overlap = config.backend !== "node";
      const inputs = overlap ? warmupInputs() : undefined;
      inputs?.catch(() => {});
      pipeline = await Pipeline.create(config, msg.encoders as EncoderFiles, { joint: msg.joint !== false });
      await warmUp(pipeline, await (inputs ?? warmupInputs()));
      self.postMessage({ type: "ready", hasJointSpace: pipeline.hasJointSpace });
    } catch (error) {
      self.postMessage({ type: "fatal", message: error instanceof Error ? error.message : String(error) });
    }
    return;
  }
  if (msg.type !== "job") return;
  try {
    const bytes = msg.bytes as Uint8Array;
    if (testHooks) await triggerTestFault(bytes);
    const result = msg.op === "classify"
      ? await pipeline!.classify(bytes, msg.options?.topK)
      : await pipeline!.embed(bytes, msg.options?.space ?? "joint");
    self.postMessage({ type: "result", id: msg.id, ok: true, result });
  } catch (error) {
    self.postMessage({ type: "result", id: msg.id, ok: false, error: serialise(error) });
  }
  // After the answer is on its way: free what WASM decoders hold until a full collection (./reclaim.ts).
  reclaimer.jobDone();
};

function serialise(error: unknown) {
  if (error instanceof ProblemError) {
    return { status: error.status, detail: error.message, extensions: error.extensions };
  }
  // Internal errors are logged here and reported without details (no paths or stacks to clients).
  console.error(JSON.stringify({ level: "error", msg: "worker job failed", error: String(error) }));
  return { status: 500, detail: "Internal error while processing the file" };
}

async function triggerTestFault(bytes: Uint8Array): Promise<void> {
  const head = new TextDecoder().decode(bytes.subarray(0, 32));
  if (head.startsWith(CRASH_MAGIC)) {
    // An uncaught error outside the job's promise chain, as a real WASM abort would be.
    setTimeout(() => {
      throw new Error("test-induced worker crash");
    });
    await new Promise(() => {});
  }
  if (head.startsWith(HANG_MAGIC)) {
    while (true) { /* spin until the deadline terminates the worker */ }
  }
}

/**
 * First calls of sharp and onnxruntime are slow (~150 ms); pay that at start, not on a request.
 * Through the whole classify path when a joint space is deployed, so the translator sessions are warm too.
 */
async function warmUp(p: Pipeline, inputs: Uint8Array[]): Promise<void> {
  for (const bytes of inputs) {
    await (p.hasJointSpace ? p.classify(bytes) : p.embed(bytes, "encoder")).catch(() => {});
  }
}
