/**
 * Videos through the pipeline: the audio track and each frame are classified (or embedded) exactly as a
 * sound and a photo would be, by the same {@linkcode Pipeline} methods, and the results are put
 * together here: frames fused into one image result, then audio and image fused into the answer
 * (`lib/classify/fusion.ts` states the rule), each modality's own result kept beside it.
 *
 * Embeddings: the answer's `embedding` is the audio track's when there is one (what this service answered
 * for videos before it looked at their frames, so stored vectors stay comparable), otherwise the frames'
 * mean; `modalities` holds both, the image one being the mean of the frames' vectors (renormalised to unit
 * length in the joint space, whose vectors all have it).
 *
 * @module
 */
import { fuse, type Vote } from "./classify/fusion.ts";
import type { Media } from "./media/decode_media.ts";
import type { DecodedVideo } from "./media/video.ts";
import type { ClassifyResult, EmbedResult, Timings } from "./pipeline.ts";

/** One modality's classification of a video. */
export interface ModalityClassification {
  label: string | null;
  score: number | null;
  reason?: ClassifyResult["reason"];
  scores: { label: string; score: number }[];
  instrument?: ClassifyResult["instrument"];
}

/** The image modality's classification: the frames' fused result and each frame's own. */
export interface ImageClassification extends ModalityClassification {
  frames: { seconds: number; label: string | null; score: number | null }[];
}

/** Each modality's result on a video. */
export interface VideoModalities {
  audio?: ModalityClassification;
  image?: ImageClassification;
}

/** One modality's embedding of a video. */
export interface ModalityEmbedding {
  encoder: string;
  dim: number;
  embedding: number[];
  /** Frames averaged (image only). */
  frames?: number;
}

/** What a video answer says about the file beside the audio facts. */
export interface VideoFacts {
  /** Duration the container declares, seconds (null when none). */
  durationSeconds: number | null;
  width: number;
  height: number;
  /** Frames decoded and classified. */
  frames: number;
}

/** The fields a video adds to an answer. */
export interface VideoParts {
  video: VideoFacts;
  /** Modalities the answer lacks (no audio track, no decodable frame). */
  missing?: ("audio" | "image")[];
  /** Why something is missing or partial. */
  notes?: string[];
}

/** Runs one decoded sound or frame through the ordinary path. */
type Run<R> = (media: Media) => Promise<R>;

/**
 * Classifies a decoded video.
 *
 * @param video The decoded video.
 * @param classify The pipeline's classification of one decoded sound or photo (all scores, no `top_k`).
 * @param options `topK` trims every `scores` list; `decodeMs` is the video's decode time; `embedding` adds the
 *   video's joint embedding (the module doc's rule).
 * @returns The fused answer with `modalities`, `video`, and `missing`/`notes` when something is absent.
 *
 * @example
 * ```ts
 * const result = await classifyVideo(video, (media) => pipeline.classify(media), { decodeMs: 120 });
 * result.modalities.audio?.label; // "violin"
 * ```
 */
export async function classifyVideo(
  video: DecodedVideo,
  classify: Run<ClassifyResult>,
  options: { topK?: number; decodeMs: number; embedding?: boolean },
): Promise<ClassifyResult> {
  const { audio, frames, timings } = await runParts(video, classify, options.decodeMs);
  const trim = <T>(list: T[]) => options.topK === undefined ? list : list.slice(0, options.topK);
  const modalities: VideoModalities = {};
  const votes: Vote[] = [];
  if (audio) {
    modalities.audio = modalityResult(audio, trim);
    votes.push(audio);
  }
  if (frames.length) {
    const fused = fuse(frames);
    // The frame the presence stage was surest of speaks for the image modality's `instrument`.
    const surest = frames.reduce((a, b) => (b.instrument?.score ?? 0) > (a.instrument?.score ?? 0) ? b : a);
    modalities.image = {
      label: fused.label,
      score: fused.score,
      ...(fused.reason ? { reason: fused.reason } : {}),
      scores: trim(fused.scores),
      ...(surest.instrument ? { instrument: surest.instrument } : {}),
      frames: video.frames.map((f, i) => ({ seconds: f.seconds, label: frames[i]!.label, score: frames[i]!.score })),
    };
    votes.push(fused);
  }
  const fused = fuse(votes);
  const model = (audio ?? frames[0])!.model;
  const embedding = options.embedding
    ? pick(audio?.embedding, frames.map((f) => f.embedding).filter((e) => e !== undefined), true)
    : undefined;
  return {
    modality: "video",
    label: fused.label,
    score: fused.score,
    ...(fused.reason ? { reason: fused.reason } : {}),
    scores: trim(fused.scores),
    model,
    ...(audio?.audio ? { audio: audio.audio } : {}),
    ...videoParts(video),
    modalities,
    ...(embedding ? { embedding } : {}),
    timings,
  };
}

/**
 * Embeds a decoded video: each modality's vector, and the answer's vector by the module doc's rule.
 *
 * @param video The decoded video.
 * @param embed The pipeline's embedding of one decoded sound or photo.
 * @param options The space asked for and the video's decode time.
 * @returns The answer, with `modalities`.
 */
export async function embedVideo(
  video: DecodedVideo,
  embed: Run<EmbedResult>,
  options: { space: "joint" | "encoder"; decodeMs: number },
): Promise<EmbedResult> {
  const { audio, frames, timings } = await runParts(video, embed, options.decodeMs);
  const modalities: Record<string, ModalityEmbedding> = {};
  if (audio) modalities.audio = { encoder: audio.encoder, dim: audio.dim, embedding: audio.embedding };
  if (frames.length) {
    const mean = pick(undefined, frames.map((f) => f.embedding), options.space === "joint")!;
    modalities.image = { encoder: frames[0]!.encoder, dim: mean.length, embedding: mean, frames: frames.length };
  }
  const top = (modalities.audio ?? modalities.image)!;
  return {
    modality: "video",
    space: options.space,
    encoder: top.encoder,
    dim: top.dim,
    embedding: top.embedding,
    ...(audio?.audio ? { audio: audio.audio } : {}),
    ...videoParts(video),
    modalities,
    timings,
  };
}

/** Runs the audio track and then each frame through `run`, one at a time, summing their timings. */
async function runParts<R extends { timings: Timings }>(
  video: DecodedVideo,
  run: Run<R>,
  decodeMs: number,
): Promise<{ audio?: R; frames: R[]; timings: Timings }> {
  const timings: Timings = { decode: decodeMs };
  const audio = video.audio ? await run({ modality: "audio", format: video.format, audio: video.audio }) : undefined;
  if (audio) addTimings(timings, audio.timings);
  const frames: R[] = [];
  for (const frame of video.frames) {
    const result = await run({ modality: "image", format: "png", image: frame.image });
    addTimings(timings, result.timings);
    frames.push(result);
  }
  return { audio, frames, timings };
}

function modalityResult(result: ClassifyResult, trim: <T>(list: T[]) => T[]): ModalityClassification {
  return {
    label: result.label,
    score: result.score,
    ...(result.reason ? { reason: result.reason } : {}),
    scores: trim(result.scores),
    ...(result.instrument ? { instrument: result.instrument } : {}),
  };
}

function videoParts(video: DecodedVideo): VideoParts {
  return {
    video: {
      durationSeconds: video.durationSeconds,
      width: video.width,
      height: video.height,
      frames: video.frames.length,
    },
    ...(video.missing.length ? { missing: video.missing } : {}),
    ...(video.notes.length ? { notes: video.notes } : {}),
  };
}

/** The audio vector when there is one, else the frames' mean (unit length again when `normalise`). */
function pick(audio: number[] | undefined, frames: number[][], normalise: boolean): number[] | undefined {
  if (audio) return audio;
  if (frames.length === 0) return undefined;
  const mean = frames[0]!.map((_, i) => frames.reduce((sum, f) => sum + f[i]!, 0) / frames.length);
  if (!normalise) return mean;
  const norm = Math.hypot(...mean);
  return norm > 0 ? mean.map((x) => x / norm) : mean;
}

function addTimings(into: Timings, from: Timings): void {
  for (const [stage, ms] of Object.entries(from)) into[stage] = (into[stage] ?? 0) + ms;
}

/**
 * The modality of an answer's vector: the input's, or for a video the modality its `embedding` comes from
 * (audio when the video has a decodable audio track, image otherwise). Collections store and filter items by it,
 * so a video's item is found as the sound (or picture) its vector is.
 *
 * @param result A classify or embed answer.
 * @returns `audio` or `image`.
 *
 * @example
 * ```ts
 * vectorModality({ modality: "video", modalities: { image: imageResult } }); // "image"
 * ```
 */
export function vectorModality(
  result: { modality: "audio" | "image" | "video"; modalities?: { audio?: unknown } },
): "audio" | "image" {
  if (result.modality !== "video") return result.modality;
  return result.modalities?.audio ? "audio" : "image";
}
