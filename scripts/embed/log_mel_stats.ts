/**
 * A non-learned audio embedding: per-band mean and standard deviation of the
 * YAMNet log-mel spectrogram (64 + 64 = 128 values). The report compares
 * learned audio encoders against it (Wu, Fuentes & Bello 2021, section 4.1).
 *
 * @module
 */

import { logMel, type LogMelParams } from "../../lib/features/log_mel.ts";

/**
 * Width of {@linkcode logMelStats}: mean and standard deviation of each band (YAMNet: 2 x 64).
 *
 * @param params The front end (the audio card's `preprocess.logMel`).
 * @returns `2 * params.melBands`.
 */
export function logMelStatsDim(params: Readonly<LogMelParams>): number {
  return 2 * params.melBands;
}

/**
 * Summarises a clip by the mean and the (population) standard deviation over
 * frames of each log-mel band, means first. A clip shorter than one STFT
 * window is zero-padded to one window.
 *
 * @param samples16k Mono samples at 16 kHz in [-1, 1].
 * @param params The front end (the audio card's `preprocess.logMel`).
 * @returns {@linkcode logMelStatsDim} values: `[mean_0..mean_63, std_0..std_63]`.
 *
 * @example
 * ```ts
 * const stats = logMelStats(new Float32Array(16000), yamnetCard.preprocess.logMel); // silence: means ln(0.001), stds 0
 * ```
 */
export function logMelStats(samples16k: Float32Array, params: Readonly<LogMelParams>): Float32Array {
  const input = samples16k.length >= params.windowLength ? samples16k : (() => {
    const padded = new Float32Array(params.windowLength);
    padded.set(samples16k);
    return padded;
  })();
  const { data, frames, bands } = logMel(input, params);
  const out = new Float32Array(2 * bands);
  for (let b = 0; b < bands; b++) {
    let sum = 0;
    for (let f = 0; f < frames; f++) sum += data[f * bands + b]!;
    const mean = sum / frames;
    let sq = 0;
    for (let f = 0; f < frames; f++) sq += (data[f * bands + b]! - mean) ** 2;
    out[b] = mean;
    out[bands + b] = Math.sqrt(sq / frames);
  }
  return out;
}
