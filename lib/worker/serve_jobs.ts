/**
 * The body of an inference worker: owns one {@linkcode Pipeline} and answers the pool's messages
 * (`./protocol.ts`). The production entry is `./inference_worker.ts`; tests start a worker that passes
 * a `beforeJob` hook to inject faults, so no test code ships in the service.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { ProblemError } from "../errors.ts";
import { Pipeline } from "../pipeline.ts";
import type { InitMessage, JobMessage, JobRequest, WorkerError, WorkerReply } from "./protocol.ts";
import { warmupInputs } from "./warmup_inputs.ts";
import { createReclaimer } from "./reclaim.ts";

/** Options of {@linkcode serveJobs}. */
export interface ServeJobsOptions {
  /** Runs before each job (fault injection in tests). */
  beforeJob?: (bytes: Uint8Array) => Promise<void>;
}

/**
 * Makes this worker answer `init` and `job` messages.
 *
 * @param options Hooks.
 */
export function serveJobs(options: ServeJobsOptions = {}): void {
  let pipeline: Pipeline | undefined;
  const reclaimer = createReclaimer();
  const reply = (msg: WorkerReply) => self.postMessage(msg);

  self.onmessage = async (event: MessageEvent<InitMessage | JobMessage>) => {
    const msg = event.data;
    if (msg.type === "init") {
      try {
        // sharp's first calls (module compile, its thread pool) overlap the WASM session loads:
        // measured 4.0 s instead of 6.3 s to ready on the loaded 2-core machine. Not with the
        // native backend: sharp's import briefly reports process.arch "wasm32" (lib/media/sharp.ts),
        // and onnxruntime-node, imported meanwhile, would look for a wasm32 binary.
        const overlap = msg.config.backend !== "node";
        const inputs = overlap ? warmupInputs() : undefined;
        inputs?.catch(() => {});
        pipeline = await Pipeline.create(msg.config, msg.encoders, { joint: msg.joint });
        await warmUp(pipeline, await (inputs ?? warmupInputs()));
        reply({ type: "ready", hasJointSpace: pipeline.hasJointSpace });
      } catch (error) {
        reply({ type: "fatal", message: error instanceof Error ? error.message : String(error) });
      }
      return;
    }
    try {
      await options.beforeJob?.(msg.bytes);
      reply({ type: "result", id: msg.id, ok: true, result: await run(pipeline!, msg) });
    } catch (error) {
      reply({ type: "result", id: msg.id, ok: false, error: serialise(error) });
    }
    // After the answer is on its way: free what WASM decoders hold until a full collection (./reclaim.ts).
    reclaimer.jobDone();
  };
}

function run(pipeline: Pipeline, job: JobRequest) {
  return job.op === "classify"
    ? pipeline.classify(job.bytes, job.options.topK, { embedding: job.options.embedding === true })
    : pipeline.embed(job.bytes, job.options.space);
}

function serialise(error: unknown): WorkerError {
  if (error instanceof ProblemError) {
    return { status: error.status, detail: error.message, extensions: error.extensions };
  }
  // Internal errors are logged here and reported without details (no paths or stacks to clients).
  console.error(JSON.stringify({ level: "error", msg: "worker job failed", error: String(error) }));
  return { status: 500, detail: "Internal error while processing the file" };
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
