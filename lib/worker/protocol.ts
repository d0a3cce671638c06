/**
 * The messages between the main isolate and its workers, as types: the inference pool's protocol
 * and the training extractor's. Both sides import these, so a change to one side fails the type check
 * of the other.
 *
 * @module
 */
import type { Config } from "../config.ts";
import type { ClassifyResult, EmbedResult, EncoderFiles, Modality } from "../pipeline.ts";
import type { Media } from "../media/decode_media.ts";
import type { EncoderCard } from "../encoders/card.ts";

/** First message to an inference worker: what to load. */
export interface InitMessage {
  type: "init";
  config: Config;
  encoders: EncoderFiles;
  /** Load the trained joint space (false: encoder-only service). */
  joint: boolean;
  /** Modalities to load and run once before answering `ready` (`AMODAL_WARMUP`); the rest load on first use. */
  warmup: readonly Modality[];
}

/**
 * A job's input: the upload's bytes (decoded by the worker: audio, or images when the main isolate does
 * not decode them), or media already decoded in the main isolate (images: encoder-sized pixels).
 * Either is transferred to the worker, not copied.
 */
export type JobInput = { bytes: Uint8Array; media?: never } | { media: Media; bytes?: never };

/** A job the pool runs on an inference worker. */
export type JobRequest =
  & ({ op: "embed"; options: { space: "joint" | "encoder" } } | {
    op: "classify";
    options: { topK?: number; embedding?: boolean };
  })
  & JobInput;

/**
 * The buffer a job's input lives in, for the transfer list.
 *
 * @param input The job's input.
 * @returns The buffer to transfer.
 */
export function inputBuffer(input: JobInput): ArrayBuffer {
  if (input.bytes) return input.bytes.buffer as ArrayBuffer;
  const { media } = input;
  return (media.modality === "image" ? media.image.pixels.buffer : media.audio.samples.buffer) as ArrayBuffer;
}

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

/**
 * What an inference worker posts back. `loaded` names what the worker has loaded so far (`encoder:<name>`,
 * `translator:<modality>`, `ffmpeg`, `sharp`), for `/healthz`.
 */
export type WorkerReply =
  | { type: "ready"; hasJointSpace: boolean; loaded: string[] }
  | { type: "fatal"; message: string }
  | { type: "result"; id: number; ok: true; result: JobResults[JobRequest["op"]]; loaded: string[] }
  | { type: "result"; id: number; ok: false; error: WorkerError; loaded: string[] };

/** Which output the training extractor computes per item. */
export type ExtractOutput = "embedding" | "scores" | "log_mel_stats";

/** Messages to a training extraction worker (`scripts/embed/extract_worker.ts`). */
export type ExtractMessage =
  | {
    type: "init";
    card: EncoderCard;
    onnxPath: string;
    threads?: number;
    output?: ExtractOutput;
    /** With `output: "embedding"`: also return the encoder's window-mean class scores (same run). */
    withScores?: boolean;
  }
  | {
    type: "job";
    key: string;
    path: string;
    view: number;
    seedKey: string;
    /** Views of the second family (`scripts/embed/augment_source.ts`): another item of the same label and source to mix in. */
    mixPath?: string;
  };

/** Replies of a training extraction worker. */
export type ExtractReply =
  | { type: "ready" }
  | { type: "done"; key: string; embedding: Float32Array; scores?: Float32Array }
  | { type: "error"; key: string; message: string };
