/**
 * The messages between the main isolate and its workers, as types: the inference pool's protocol
 * and the training extractor's. Both sides import these, so a change to one side fails the type check
 * of the other.
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { ClassifyResult, EmbedResult, EncoderFiles } from "../pipeline.ts";
import type { EncoderCard } from "../encoders/card.ts";

/** First message to an inference worker: what to load. */
export interface InitMessage {
  type: "init";
  config: Config;
  encoders: EncoderFiles;
  /** Load the trained joint space (false: encoder-only service). */
  joint: boolean;
}

/** A job the pool runs on an inference worker. */
export type JobRequest =
  | { op: "embed"; bytes: Uint8Array; options: { space: "joint" | "encoder" } }
  | { op: "classify"; bytes: Uint8Array; options: { topK?: number; embedding?: boolean } };

/** What each job answers. */
export interface JobResults {
  embed: EmbedResult;
  classify: ClassifyResult;
}

/** A job as posted to a worker. */
export type JobMessage = JobRequest & { type: "job"; id: number };

/** An error as a worker reports it: a 4xx keeps its status and text, anything else is a bare 500. */
export interface WorkerError {
  status?: number;
  detail: string;
  extensions?: Record<string, unknown>;
}

/** What an inference worker posts back. */
export type WorkerReply =
  | { type: "ready"; hasJointSpace: boolean }
  | { type: "fatal"; message: string }
  | { type: "result"; id: number; ok: true; result: JobResults[JobRequest["op"]] }
  | { type: "result"; id: number; ok: false; error: WorkerError };

/** Which output the training extractor computes per item. */
export type ExtractOutput = "embedding" | "scores" | "log_mel_stats";

/** Messages to a training extraction worker (`scripts/embed/extract_worker.ts`). */
export type ExtractMessage =
  | { type: "init"; card: EncoderCard; onnxPath: string; threads?: number; output?: ExtractOutput }
  | { type: "job"; key: string; path: string; view: number; seedKey: string };

/** Replies of a training extraction worker. */
export type ExtractReply =
  | { type: "ready" }
  | { type: "done"; key: string; embedding: Float32Array }
  | { type: "error"; key: string; message: string };
