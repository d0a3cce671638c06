/**
 * Audio encoders: 16 kHz mono samples -> one clip embedding (or AudioSet scores).
 *
 * @module
 */

import type { AudioPreprocess, EncoderCard } from "./card.ts";
import type { Session } from "../backend/onnx.ts";
import { runPooled, runPooledStats } from "./run_pooled.ts";
import { logMel, YAMNET_LOG_MEL } from "../features/log_mel.ts";
import { padWaveform, patchWindowCount } from "../features/pad_waveform.ts";
import { toPatches } from "../features/patches.ts";

/** Milliseconds per stage, as the pipeline collects them. */
export type StageTimings = Record<string, number>;

function audioPreprocess(card: EncoderCard): AudioPreprocess {
  const p = card.preprocess as Partial<AudioPreprocess>;
  if (card.modality !== "audio" || (p.kind !== "log_mel_patches" && p.kind !== "waveform")) {
    throw new TypeError(`Encoder ${card.name} is not an audio encoder with a known preprocess.kind (${p.kind})`);
  }
  if (p.sampleRate !== YAMNET_LOG_MEL.sampleRate) {
    throw new RangeError(`Encoder ${card.name} expects ${p.sampleRate} Hz; audio is decoded at 16000 Hz`);
  }
  return p as AudioPreprocess;
}

/**
 * Prepares the graph input stack for a clip: YAMNet-style zero padding to one
 * window plus whole hops, then either log-mel patches (plus the card's
 * `offset`) or raw waveform windows.
 */
function prepare(card: EncoderCard, samples: Float32Array, timings?: StageTimings) {
  const start = performance.now();
  const p = audioPreprocess(card);
  const geometry = { window: p.windowSamples, hop: p.hopSamples };
  const padded = padWaveform(samples, geometry);
  let prepared: { data: Float32Array; count: number; itemDims: number[] };
  if (p.kind === "waveform") {
    const count = patchWindowCount(padded.length, geometry);
    const data = new Float32Array(count * p.windowSamples);
    for (let i = 0; i < count; i++) {
      data.set(padded.subarray(i * p.hopSamples, i * p.hopSamples + p.windowSamples), i * p.windowSamples);
    }
    prepared = { data, count, itemDims: [p.windowSamples] };
  } else {
    const patches = toPatches(logMel(padded), {
      frames: p.patchFrames ?? 96,
      hop: p.patchHop ?? 48,
      offset: p.offset ?? 0,
    });
    prepared = { data: patches.data, count: patches.count, itemDims: [patches.frames, patches.bands] };
  }
  if (timings) timings.features = (timings.features ?? 0) + performance.now() - start;
  return prepared;
}

/**
 * Embeds a clip with an audio encoder: the clip is cut into the card's
 * windows (0.96 s patches every 0.48 s for YAMNet; short clips padded to one),
 * each window is embedded, and the mean over windows is the clip embedding.
 *
 * @param session Backend session of the card's converted graph.
 * @param card The encoder's card (`preprocess` says log-mel patches or waveform).
 * @param samples16k Mono samples at 16 kHz in [-1, 1].
 * @param timings Optional stage timings; feature extraction adds to `features`.
 * @returns The clip embedding, `card.outputs.embedding.dim` values.
 *
 * @example
 * ```ts
 * const embedding = await embedAudio(session, card, decoded.samples); // 1024 values for YAMNet
 * ```
 */
export async function embedAudio(
  session: Session,
  card: EncoderCard,
  samples16k: Float32Array,
  timings?: StageTimings,
): Promise<Float32Array> {
  const { data, count, itemDims } = prepare(card, samples16k, timings);
  const { embedding } = await runPooled(session, card, data, count, itemDims, ["embedding"]);
  if (embedding!.length !== card.outputs.embedding.dim) {
    throw new Error(`Encoder ${card.name} gave ${embedding!.length} values, card says ${card.outputs.embedding.dim}`);
  }
  return embedding!;
}

/** What {@linkcode encodeAudio} returns. */
export interface EncodedAudio {
  /** The clip embedding (mean over windows), as {@linkcode embedAudio} returns it. */
  embedding: Float32Array;
  /** Class scores per window pooled by mean and by maximum; absent when the card has no `scores` output. */
  scores?: { mean: Float32Array; max: Float32Array };
}

/**
 * The clip embedding and, from the same runs, the encoder's own class scores
 * (YAMNet: 521 AudioSet classes) pooled over windows by mean and maximum.
 * One more output of the same graph costs one small dense layer per window.
 *
 * @param session Backend session of the card's converted graph.
 * @param card The encoder's card.
 * @param samples16k Mono samples at 16 kHz in [-1, 1].
 * @param timings Optional stage timings; feature extraction adds to `features`.
 * @returns Embedding and pooled scores.
 *
 * @example
 * ```ts
 * const { embedding, scores } = await encodeAudio(session, card, decoded.samples);
 * scores!.max.length; // 521 for YAMNet
 * ```
 */
export async function encodeAudio(
  session: Session,
  card: EncoderCard,
  samples16k: Float32Array,
  timings?: StageTimings,
): Promise<EncodedAudio> {
  const { data, count, itemDims } = prepare(card, samples16k, timings);
  const withScores = card.outputs.scores !== undefined && session.outputNames.includes("scores");
  const outputs = withScores ? ["embedding", "scores"] : ["embedding"];
  const { mean, max } = await runPooledStats(session, card, data, count, itemDims, outputs);
  const embedding = mean.embedding!;
  if (embedding.length !== card.outputs.embedding.dim) {
    throw new Error(`Encoder ${card.name} gave ${embedding.length} values, card says ${card.outputs.embedding.dim}`);
  }
  return { embedding, ...(withScores ? { scores: { mean: mean.scores!, max: max.scores! } } : {}) };
}

/**
 * Mean AudioSet class scores of a clip (per-window sigmoid scores averaged
 * over windows), in the order of the card's `outputs.scores.labels` file.
 *
 * @param session Backend session of the card's converted graph.
 * @param card An audio card with a `scores` output.
 * @param samples16k Mono samples at 16 kHz in [-1, 1].
 * @returns One score per class (521 for YAMNet).
 */
export async function audioScores(
  session: Session,
  card: EncoderCard,
  samples16k: Float32Array,
): Promise<Float32Array> {
  if (!card.outputs.scores) throw new TypeError(`Encoder ${card.name} has no scores output`);
  const { data, count, itemDims } = prepare(card, samples16k);
  const { scores } = await runPooled(session, card, data, count, itemDims, ["scores"]);
  return scores!;
}
