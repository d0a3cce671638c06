/**
 * Cuts a log-mel spectrogram into the fixed-size patches YAMNet's CNN reads.
 *
 * @module
 */

import type { LogMel } from "./log_mel.ts";

/** Options of {@linkcode toPatches}. */
export interface PatchOptions {
  /** Frames per patch. @default 96 (0.96 s at a 10 ms hop) */
  frames?: number;
  /** Frames between patch starts. @default 48 (0.48 s) */
  hop?: number;
  /**
   * Added to every value, to match an encoder calibrated on shifted features
   * (the model card's `preprocess.offset`). @default 0
   */
  offset?: number;
  /**
   * Value of the rows that pad a spectrogram shorter than one patch, before
   * `offset`. @default Math.log(0.001), the log-mel of silence
   */
  padValue?: number;
}

/** Patches, row-major `[count, frames, bands]`. */
export interface Patches {
  /** `data[(patch * frames + frame) * bands + band]`. */
  data: Float32Array;
  /** Number of patches. */
  count: number;
  /** Frames per patch. */
  frames: number;
  /** Bands per frame. */
  bands: number;
}

/**
 * Frames a log-mel spectrogram into overlapping patches like YAMNet's
 * `tf.signal.frame(log_mel, 96, 48, axis=0)`: whole patches only, the tail
 * shorter than a patch is dropped. A spectrogram shorter than one patch is
 * padded at the end with `padValue` rows so that every clip yields at least one
 * patch.
 *
 * To mirror YAMNet exactly (tail kept as a zero-padded patch, short clips padded
 * in the waveform domain), pad the waveform with `padWaveform` before `logMel`;
 * then no padding happens here.
 *
 * @param logMel Spectrogram from `logMel`.
 * @param options Patch geometry and value offset.
 * @returns The patches.
 *
 * @example
 * ```ts
 * const patches = toPatches(logMel(padWaveform(samples)), { offset: 0 });
 * // patches.data has patches.count * 96 * 64 values
 * ```
 */
export function toPatches(logMel: LogMel, options: PatchOptions = {}): Patches {
  const frames = options.frames ?? 96;
  const hop = options.hop ?? 48;
  const offset = options.offset ?? 0;
  const padValue = options.padValue ?? Math.log(0.001);
  const { bands } = logMel;
  if (
    !(Number.isInteger(frames) && frames > 0 && Number.isInteger(hop) &&
      hop > 0)
  ) {
    throw new RangeError(
      `Cannot cut patches: frames (${frames}) and hop (${hop}) must be positive integers`,
    );
  }
  if (logMel.data.length !== logMel.frames * bands) {
    throw new RangeError(
      `Cannot cut patches: data length (${logMel.data.length}) must equal frames (${logMel.frames}) * bands (${bands})`,
    );
  }
  const count = logMel.frames < frames ? 1 : 1 + Math.floor((logMel.frames - frames) / hop);
  const patchSize = frames * bands;
  const data = new Float32Array(count * patchSize);
  for (let p = 0; p < count; p++) {
    const from = p * hop * bands;
    const available = Math.min(patchSize, logMel.data.length - from);
    const patch = data.subarray(p * patchSize, (p + 1) * patchSize);
    patch.set(logMel.data.subarray(from, from + available));
    patch.fill(padValue, available);
    if (offset !== 0) {
      for (let i = 0; i < patchSize; i++) patch[i] = patch[i]! + offset;
    }
  }
  return { data, count, frames, bands };
}
