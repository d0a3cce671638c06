/**
 * The body of an inference worker: owns one {@linkcode Pipeline} and answers the pool's messages
 * (`./protocol.ts`). The production entry is `./inference_worker.ts`; tests start a worker that passes
 * a `beforeJob` hook to inject faults, so no test code ships in the service.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { Pipeline } from "../pipeline.ts";
import type { ImagePreprocess } from "../encoders/card.ts";
import type { InitMessage, JobInput, JobMessage, WorkerReply } from "./protocol.ts";
import { loadedParts, runJob, serialise } from "./run_job.ts";
import { warmupInputs } from "./warmup_inputs.ts";
import { createReclaimer } from "./reclaim.ts";
import { releaseGrownCore } from "../media/ffmpeg.ts";

/** Options of {@linkcode serveJobs}. */
export interface ServeJobsOptions {
  /** Runs before each job (fault injection in tests). */
  beforeJob?: (input: JobInput) => Promise<void>;
}

/**
 * Makes this worker answer `init` and `job` messages.
 *
 * @param options Hooks.
 */
export function serveJobs(options: ServeJobsOptions = {}): void {
  let pipeline: Pipeline | undefined;
  let warming: Promise<void> = Promise.resolve();
  const reclaimer = createReclaimer();
  let active = 0;
  const reply = (msg: WorkerReply) => self.postMessage(msg);

  self.onmessage = async (event: MessageEvent<InitMessage | JobMessage>) => {
    const msg = event.data;
    if (msg.type === "init") {
      try {
        pipeline = await Pipeline.create(msg.config, msg.encoders, { joint: msg.joint });
        const size = (msg.encoders.image.card.preprocess as ImagePreprocess).size;
        // What AMODAL_WARMUP names loads in the background: the worker takes jobs at once, and a job that arrives
        // meanwhile waits for the warm-up (which holds the loads it needs anyway) rather than racing it on a session.
        const warm = pipeline;
        warming = (async () => {
          for (const modality of msg.warmup) {
            for (const input of await warmupInputs(modality, size)) await warm.warmUp(input).catch(() => {});
          }
        })().catch(() => {});
        reply({ type: "ready", hasJointSpace: pipeline.hasJointSpace, loaded: loadedParts(pipeline) });
      } catch (error) {
        reply({ type: "fatal", message: error instanceof Error ? error.message : String(error) });
      }
      return;
    }
    active++;
    try {
      await warming;
      await options.beforeJob?.(msg);
      const result = await runJob(pipeline!, msg);
      reply({ type: "result", id: msg.id, ok: true, result, loaded: loadedParts(pipeline) });
    } catch (error) {
      reply({ type: "result", id: msg.id, ok: false, error: serialise(error), loaded: loadedParts(pipeline) });
      // A trap or abort can leave a WASM module (sharp, ffmpeg, onnxruntime) unusable: end this worker, after the
      // answer, as an uncaught error, which the pool answers by replacing the worker.
      if (error instanceof WebAssembly.RuntimeError) {
        setTimeout(() => {
          throw error;
        });
      }
    }
    active--;
    // After the answer is on its way: free what WASM decoders hold until a full collection (./reclaim.ts), and
    // give back an ffmpeg heap that a large video grew once no other job may be using it.
    reclaimer.jobDone(active === 0 && releaseGrownCore());
  };
}
