/**
 * Audio augmentation for the training splits, applied to decoded 16 kHz samples before the
 * encoder's front end (so the service's own feature code sees them, as at serving time).
 *
 * Audio generalisation across recording sources is the weak point of this method (one sample
 * library per label is easy to memorise), so each augmented view changes what differs between
 * sources: pitch (resampling), spectral tilt and resonances (EQ), room (reverb), noise floor and
 * level.
 *
 * @module
 */
import FFT from "fft.js";
import { gaussian, uniform } from "../shared/random.ts";

const SR = 16000;

/** What one augmented view did (recorded for reproducibility and tests). */
export interface AudioAugmentation {
  pitchSemitones: number;
  eq: { hz: number; gainDb: number; q: number } | null;
  tilt: { gainDb: number } | null;
  reverb: { rt60: number; wet: number } | null;
  noise: { snrDb: number; pink: boolean } | null;
  gainDb: number;
}

/**
 * Draws and applies one random augmentation.
 *
 * @param samples Mono 16 kHz samples in [-1, 1].
 * @param rand A seeded generator (`createRandom(id + view).next`).
 * @returns The augmented samples (same length) and what was done.
 *
 * @example
 * ```ts
 * const { samples } = augmentAudio(decoded.samples, createRandom(`${item.id}/1`).next);
 * ```
 */
export function augmentAudio(
  samples: Float32Array,
  rand: () => number,
): { samples: Float32Array; augmentation: AudioAugmentation } {
  const aug: AudioAugmentation = {
    pitchSemitones: rand() < 0.6 ? uniform(rand, -3, 3) : 0,
    eq: rand() < 0.7
      ? {
        hz: Math.exp(uniform(rand, Math.log(150), Math.log(6000))),
        gainDb: uniform(rand, -10, 10),
        q: uniform(rand, 0.5, 2),
      }
      : null,
    tilt: rand() < 0.5 ? { gainDb: uniform(rand, -9, 9) } : null,
    reverb: rand() < 0.5 ? { rt60: uniform(rand, 0.2, 1.5), wet: uniform(rand, 0.1, 0.6) } : null,
    noise: rand() < 0.5 ? { snrDb: uniform(rand, 10, 40), pink: rand() < 0.5 } : null,
    gainDb: uniform(rand, -18, 6),
  };
  let y: Float64Array = Float64Array.from(samples);
  if (aug.pitchSemitones !== 0) y = resampleBy(y, Math.pow(2, aug.pitchSemitones / 12), samples.length);
  if (aug.eq) y = biquad(y, peaking(aug.eq.hz, aug.eq.gainDb, aug.eq.q));
  if (aug.tilt) y = biquad(y, highShelf(1000, aug.tilt.gainDb));
  if (aug.reverb) y = reverb(y, aug.reverb.rt60, aug.reverb.wet, rand);
  if (aug.noise) addNoise(y, aug.noise.snrDb, aug.noise.pink, rand);
  const g = Math.pow(10, aug.gainDb / 20);
  const out = new Float32Array(samples.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(-1, Math.min(1, (y[i] ?? 0) * g));
  return { samples: out, augmentation: aug };
}

/**
 * Reads the signal `ratio` times faster (pitch up by `ratio`), with a Hann-windowed sinc
 * interpolator (16 taps a side, kernel tabulated at 1/256-sample steps) low-passed below the new
 * Nyquist so upward shifts do not alias; the result is cut or zero-padded to `length`.
 *
 * @param x Input samples.
 * @param ratio Read speed (> 1 raises the pitch).
 * @param length Output length.
 * @returns The resampled signal.
 */
export function resampleBy(x: Float64Array, ratio: number, length: number): Float64Array {
  const half = 16, steps = 256;
  const cutoff = Math.min(1, 1 / ratio);
  // kernel[(k + half) * steps + s] = value at distance k + s / steps.
  const kernel = new Float64Array(2 * half * steps + 1);
  for (let i = 0; i < kernel.length; i++) {
    const d = i / steps - half;
    kernel[i] = cutoff * sinc(cutoff * d) * (0.5 + 0.5 * Math.cos((Math.PI * d) / half));
  }
  const out = new Float64Array(length);
  for (let n = 0; n < length; n++) {
    const t = n * ratio;
    const c = Math.floor(t);
    if (c - half >= x.length) break;
    const frac = Math.round((t - c) * steps);
    let s = 0;
    const lo = Math.max(0, c - half + 1), hi = Math.min(x.length - 1, c + half);
    // distance d = t - k = (c - k) + frac / steps
    for (let k = lo; k <= hi; k++) s += x[k]! * kernel[(c - k + half) * steps + frac]!;
    out[n] = s;
  }
  return out;
}

function sinc(v: number): number {
  return v === 0 ? 1 : Math.sin(Math.PI * v) / (Math.PI * v);
}

/** Biquad coefficients `[b0, b1, b2, a1, a2]`, normalised by a0. */
export type Coeffs = [number, number, number, number, number];

/** RBJ audio-EQ-cookbook peaking filter, normalised [b0, b1, b2, a1, a2]. */
function peaking(hz: number, gainDb: number, q: number): Coeffs {
  const A = Math.pow(10, gainDb / 40), w = (2 * Math.PI * hz) / SR, alpha = Math.sin(w) / (2 * q);
  const a0 = 1 + alpha / A;
  return [
    (1 + alpha * A) / a0,
    (-2 * Math.cos(w)) / a0,
    (1 - alpha * A) / a0,
    (-2 * Math.cos(w)) / a0,
    (1 - alpha / A) / a0,
  ];
}

/** RBJ high shelf (slope 1): a spectral tilt around `hz`. */
function highShelf(hz: number, gainDb: number): Coeffs {
  const A = Math.pow(10, gainDb / 40), w = (2 * Math.PI * hz) / SR, cw = Math.cos(w);
  const alpha = Math.sin(w) / 2 * Math.SQRT2, sa = 2 * Math.sqrt(A) * alpha;
  const a0 = (A + 1) - (A - 1) * cw + sa;
  return [
    (A * ((A + 1) + (A - 1) * cw + sa)) / a0,
    (-2 * A * ((A - 1) + (A + 1) * cw)) / a0,
    (A * ((A + 1) + (A - 1) * cw - sa)) / a0,
    (2 * ((A - 1) - (A + 1) * cw)) / a0,
    ((A + 1) - (A - 1) * cw - sa) / a0,
  ];
}

/**
 * Runs a biquad (direct form I) over a signal.
 *
 * @param x The signal.
 * @param coeffs `[b0, b1, b2, a1, a2]`, normalised by a0.
 * @returns The filtered signal.
 */
export function biquad(x: Float64Array, [b0, b1, b2, a1, a2]: Coeffs): Float64Array {
  const y = new Float64Array(x.length);
  let x1 = 0, x2 = 0, y1 = 0, y2 = 0;
  for (let i = 0; i < x.length; i++) {
    const v = b0 * x[i]! + b1 * x1 + b2 * x2 - a1 * y1 - a2 * y2;
    x2 = x1, x1 = x[i]!, y2 = y1, y1 = v;
    y[i] = v;
  }
  return y;
}

/**
 * Convolves with a synthetic room: Gaussian noise under an exponential decay reaching -60 dB
 * after `rt60` seconds, mixed `wet` against the dry signal (FFT convolution), same length out.
 */
function reverb(x: Float64Array, rt60: number, wet: number, rand: () => number): Float64Array {
  const irLength = Math.round(rt60 * SR);
  const ir = new Float64Array(irLength);
  let energy = 0;
  for (let i = 0; i < irLength; i++) {
    ir[i] = gaussian(rand) * Math.pow(10, (-3 * i) / irLength);
    energy += ir[i]! * ir[i]!;
  }
  const norm = 1 / Math.sqrt(energy || 1);
  let size = 1;
  while (size < x.length + irLength) size <<= 1;
  const fft = new FFT(size);
  const a = fft.createComplexArray(), b = fft.createComplexArray();
  const pa = new Array<number>(size * 2).fill(0), pb = new Array<number>(size * 2).fill(0);
  for (let i = 0; i < x.length; i++) pa[2 * i] = x[i]!;
  for (let i = 0; i < irLength; i++) pb[2 * i] = ir[i]! * norm;
  fft.transform(a, pa);
  fft.transform(b, pb);
  const prod = fft.createComplexArray();
  for (let k = 0; k < size; k++) {
    const ar = a[2 * k]!, ai = a[2 * k + 1]!, br = b[2 * k]!, bi = b[2 * k + 1]!;
    prod[2 * k] = ar * br - ai * bi;
    prod[2 * k + 1] = ar * bi + ai * br;
  }
  const conv = fft.createComplexArray();
  fft.inverseTransform(conv, prod);
  const y = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) y[i] = (1 - wet) * x[i]! + wet * conv[2 * i]!;
  return y;
}

/** Adds white or pink (Paul Kellet's filter) noise at `snrDb` below the signal's RMS. */
function addNoise(x: Float64Array, snrDb: number, pink: boolean, rand: () => number): void {
  let power = 0;
  for (const v of x) power += v * v;
  const rms = Math.sqrt(power / Math.max(x.length, 1));
  if (rms === 0) return;
  const noise = new Float64Array(x.length);
  let b0 = 0, b1 = 0, b2 = 0, np = 0;
  for (let i = 0; i < x.length; i++) {
    const w = gaussian(rand);
    if (pink) {
      b0 = 0.99765 * b0 + w * 0.099046;
      b1 = 0.963 * b1 + w * 0.2965164;
      b2 = 0.57 * b2 + w * 1.0526913;
      noise[i] = b0 + b1 + b2 + w * 0.1848;
    } else noise[i] = w;
    np += noise[i]! * noise[i]!;
  }
  const scale = rms / Math.pow(10, snrDb / 20) / Math.sqrt(np / x.length);
  for (let i = 0; i < x.length; i++) x[i] = x[i]! + noise[i]! * scale;
}
