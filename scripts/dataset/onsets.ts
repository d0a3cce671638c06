/**
 * Onset detection and 1 s clip selection for 16 kHz mono audio: where to cut
 * the paper's 1 s units out of recordings and renders.
 *
 * Spectral flux (half-wave rectified increase of log-magnitude spectra,
 * 32 ms frames, 10 ms hop) with an adaptive threshold (local median plus a
 * margin) and an energy gate, so quiet tails and noise do not make onsets.
 *
 * @module
 */
import FFT from "fft.js";

const FRAME = 512;
const HOP = 160;

/** Options of {@link detectOnsets}. */
export interface OnsetOptions {
  /** Samples per second. @default 16000 */
  sampleRate?: number;
  /** Minimum distance between two onsets, seconds. @default 0.1 */
  minGapSeconds?: number;
  /** Frames quieter than this (dB below the loudest frame) never hold onsets. @default 40 */
  gateDb?: number;
  /** Margin over the local median flux (fraction of the largest flux). @default 0.1 */
  delta?: number;
}

function frameEnergies(samples: Float32Array, count: number): Float64Array {
  const out = new Float64Array(count);
  for (let f = 0; f < count; f++) {
    let sum = 0;
    const start = f * HOP;
    const end = Math.min(samples.length, start + FRAME);
    for (let i = start; i < end; i++) sum += samples[i]! * samples[i]!;
    out[f] = sum / FRAME;
  }
  return out;
}

/**
 * Finds note/hit onsets.
 *
 * @param samples Mono audio.
 * @param options Detector settings.
 * @returns Onset times in seconds, ascending. A sound that starts at the very
 *   beginning (no silence before it) has an onset at 0.
 *
 * @example
 * ```ts
 * const onsets = detectOnsets(samples); // e.g. [0, 0.52, 1.04]
 * ```
 */
export function detectOnsets(samples: Float32Array, options: OnsetOptions = {}): number[] {
  const sampleRate = options.sampleRate ?? 16000;
  const minGap = Math.max(1, Math.round((options.minGapSeconds ?? 0.1) * sampleRate / HOP));
  const gate = Math.pow(10, -(options.gateDb ?? 40) / 10);
  const delta = options.delta ?? 0.1;
  const frames = Math.max(0, Math.floor((samples.length - 1) / HOP) + 1);
  if (frames === 0) return [];
  const energy = frameEnergies(samples, frames);
  let loudest = 0;
  for (const e of energy) loudest = Math.max(loudest, e);
  if (loudest <= 0) return [];

  const fft = new FFT(FRAME);
  const input = new Array<number>(FRAME).fill(0);
  const spectrum = fft.createComplexArray() as number[];
  const window = new Float64Array(FRAME);
  for (let i = 0; i < FRAME; i++) window[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / FRAME);
  const bins = FRAME / 2 + 1;
  let previous = new Float64Array(bins);
  const flux = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    const start = f * HOP;
    for (let i = 0; i < FRAME; i++) input[i] = (samples[start + i] ?? 0) * window[i]!;
    fft.realTransform(spectrum, input);
    const current = new Float64Array(bins);
    let sum = 0;
    for (let k = 0; k < bins; k++) {
      const re = spectrum[2 * k]!;
      const im = spectrum[2 * k + 1]!;
      current[k] = Math.log1p(100 * Math.sqrt(re * re + im * im));
      const rise = current[k]! - previous[k]!;
      if (rise > 0) sum += rise;
    }
    flux[f] = sum;
    previous = current;
  }
  let maxFlux = 0;
  for (const v of flux) maxFlux = Math.max(maxFlux, v);
  if (maxFlux <= 0) return [];

  const onsets: number[] = [];
  let lastFrame = -Infinity;
  const half = 5;
  for (let f = 0; f < frames; f++) {
    if (energy[f]! < loudest * gate && (energy[f + 1] ?? 0) < loudest * gate) continue;
    const v = flux[f]!;
    let isPeak = true;
    for (let j = Math.max(0, f - 3); j <= Math.min(frames - 1, f + 3); j++) {
      if (flux[j]! > v || (flux[j] === v && j < f)) isPeak = false;
    }
    if (!isPeak) continue;
    const neighbourhood: number[] = [];
    for (let j = Math.max(0, f - half * 2); j <= Math.min(frames - 1, f + half); j++) neighbourhood.push(flux[j]!);
    neighbourhood.sort((a, b) => a - b);
    const median = neighbourhood[Math.floor(neighbourhood.length / 2)]!;
    if (v < median + delta * maxFlux) continue;
    if (f - lastFrame < minGap) continue;
    onsets.push(f * HOP / sampleRate);
    lastFrame = f;
  }
  return onsets;
}

/** Options of {@link chooseClipStarts}. */
export interface ClipOptions {
  /** Samples per second. @default 16000 */
  sampleRate?: number;
  /** Clip length, seconds. @default 1 */
  clipSeconds?: number;
  /** Most clips to take. @default 3 */
  maxClips?: number;
  /**
   * A sustained segment (no onset) qualifies when its RMS is within this many
   * dB of the first clip's. @default 30
   */
  sustainDb?: number;
}

function rms(samples: Float32Array, start: number, length: number): number {
  let sum = 0;
  const end = Math.min(samples.length, start + length);
  for (let i = start; i < end; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / Math.max(1, length));
}

/**
 * Picks where to cut clips: at detected onsets (clips may overlap by up to
 * half their length), then, for sounds with fewer onsets than `maxClips`, at
 * whole-clip steps after the first onset and then at the half steps between
 * them, wherever the sound is still within `sustainDb` of the first clip. A
 * clip may run past the end (the caller pads it with silence) but must start
 * at least half a clip before the end.
 *
 * @param samples Mono audio.
 * @param options Clip settings.
 * @returns Start times in seconds, ascending (empty for silence).
 *
 * @example
 * ```ts
 * chooseClipStarts(fourSecondOrganNote); // [0, 1, 2]
 * ```
 */
export function chooseClipStarts(samples: Float32Array, options: ClipOptions = {}): number[] {
  const sampleRate = options.sampleRate ?? 16000;
  const clip = options.clipSeconds ?? 1;
  const maxClips = options.maxClips ?? 3;
  const duration = samples.length / sampleRate;
  const latest = duration - clip / 2;
  const onsets = detectOnsets(samples, { sampleRate }).filter((t) => t <= latest);
  const starts: number[] = [];
  for (const t of onsets) {
    if (starts.length >= maxClips) break;
    if (starts.length === 0 || t - starts[starts.length - 1]! >= clip / 2) starts.push(t);
  }
  if (starts.length === 0) {
    if (rms(samples, 0, Math.round(clip * sampleRate)) > 0) starts.push(0);
    else return [];
  }
  const reference = rms(samples, Math.round(starts[0]! * sampleRate), Math.round(clip * sampleRate));
  const floor = reference * Math.pow(10, -(options.sustainDb ?? 30) / 20);
  // Whole-clip steps after the first onset first, then the half steps between
  // them (clips then overlap by half), while the sound is still there.
  const candidates: number[] = [];
  for (let k = 1; starts[0]! + k * clip <= latest + 1e-9; k++) candidates.push(starts[0]! + k * clip);
  for (let k = 0; starts[0]! + (k + 0.5) * clip <= latest + 1e-9; k++) candidates.push(starts[0]! + (k + 0.5) * clip);
  for (const t of candidates) {
    if (starts.length >= maxClips) break;
    if (starts.some((s) => Math.abs(s - t) < clip / 2 - 1e-9)) continue;
    if (rms(samples, Math.round(t * sampleRate), Math.round(clip * sampleRate)) >= floor) starts.push(t);
  }
  return starts.sort((a, b) => a - b).map((t) => Math.round(t * 1000) / 1000);
}

/**
 * Cuts one clip, padding with silence past the end.
 *
 * @param samples Mono audio.
 * @param startSeconds Clip start.
 * @param options `sampleRate` (default 16000) and `clipSeconds` (default 1).
 * @returns Exactly `clipSeconds * sampleRate` samples.
 *
 * @example
 * ```ts
 * const clip = cutClip(samples, 0.52); // 16000 samples
 * ```
 */
export function cutClip(
  samples: Float32Array,
  startSeconds: number,
  options: { sampleRate?: number; clipSeconds?: number } = {},
): Float32Array {
  const sampleRate = options.sampleRate ?? 16000;
  const length = Math.round((options.clipSeconds ?? 1) * sampleRate);
  const start = Math.max(0, Math.round(startSeconds * sampleRate));
  const out = new Float32Array(length);
  out.set(samples.subarray(start, Math.min(samples.length, start + length)));
  return out;
}
