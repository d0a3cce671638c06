/**
 * One job on a pipeline, shared by the inference worker (`./serve_jobs.ts`) and the in-isolate runner
 * (`./in_isolate.ts`): run it, report errors without internals, say what is loaded.
 *
 * @module
 */
import { ProblemError } from "../errors.ts";
import type { Pipeline } from "../pipeline.ts";
import { ffmpegLoaded } from "../media/ffmpeg.ts";
import { sharpLoaded } from "../media/sharp.ts";
import type { JobRequest, WorkerError } from "./protocol.ts";

/**
 * What an isolate running a pipeline has loaded, for `/healthz`.
 *
 * @param pipeline The isolate's pipeline, if any.
 * @returns Component names: `encoder:<name>`, `translator:<modality>`, `ffmpeg`, `sharp`.
 */
export function loadedParts(pipeline: Pipeline | undefined): string[] {
  return [
    ...(pipeline?.loaded() ?? []),
    ...(ffmpegLoaded() ? ["ffmpeg"] : []),
    ...(sharpLoaded() ? ["sharp"] : []),
  ];
}

/**
 * Runs one job on a pipeline (in a worker, or in the main isolate with `AMODAL_WORKERS=0`).
 *
 * @param pipeline The pipeline.
 * @param job The job.
 * @returns The job's result.
 */
export function runJob(pipeline: Pipeline, job: JobRequest) {
  const input = job.bytes ?? job.media!;
  return job.op === "classify"
    ? pipeline.classify(input, job.options.topK, { embedding: job.options.embedding === true })
    : pipeline.embed(input, job.options.space);
}

/**
 * An error as a worker or the in-isolate runner reports it: a 4xx keeps its text, anything else is logged here and
 * reported without details (no paths or stacks to clients).
 *
 * @param error What the job threw.
 * @returns The serialisable error.
 */
export function serialise(error: unknown): WorkerError {
  if (error instanceof ProblemError) {
    return { status: error.status, detail: error.message, extensions: error.extensions };
  }
  console.error(JSON.stringify({ level: "error", msg: "worker job failed", error: String(error) }));
  return { status: 500, detail: "Internal error while processing the file" };
}
