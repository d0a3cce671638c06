/**
 * YAMNet's log-mel front end: the features `features.py` / `params.py` of the
 * TensorFlow YAMNet reference compute before the CNN.
 *
 * @module
 */

import FFT from "fft.js";
import { melFilterbank } from "./mel_filterbank.ts";

/** Front-end parameters; YAMNet's (its `params.py`) live in its card, `models/encoders.json` `preprocess.logMel`. */
export interface LogMelParams {
  /** Sample rate of the input in Hz. */
  sampleRate: number;
  /** Analysis window length in samples. */
  windowLength: number;
  /** Hop between frames in samples. */
  hopLength: number;
  /** FFT length (a power of two, >= windowLength). */
  fftLength: number;
  /** Number of mel bands. */
  melBands: number;
  /** Lower edge of the mel range in Hz. */
  lowerHz: number;
  /** Upper edge of the mel range in Hz. */
  upperHz: number;
  /** Added to the mel magnitude before the natural log (avoids log(0)). */
  logOffset: number;
}

/** A log-mel spectrogram, row-major `[frames, bands]`. */
export interface LogMel {
  /** `data[frame * bands + band]`. */
  data: Float32Array;
  /** Number of frames (rows). */
  frames: number;
  /** Number of mel bands (columns). */
  bands: number;
}

interface Plan {
  fft: FFT;
  window: Float64Array;
  mel: Float32Array;
  /** Per band, the first and one-past-last spectrogram bin with a non-zero weight. */
  support: Array<[number, number]>;
}

const plans = new Map<string, Plan>();

function planFor(p: LogMelParams): Plan {
  const key = JSON.stringify(p);
  const cached = plans.get(key);
  if (cached) return cached;
  if (
    !(p.fftLength >= p.windowLength && (p.fftLength & (p.fftLength - 1)) === 0)
  ) {
    throw new RangeError(
      `Cannot compute log-mel: fftLength (${p.fftLength}) must be a power of two >= windowLength (${p.windowLength})`,
    );
  }
  // Periodic Hann, as YAMNet's `_hann_window` (and tf.signal.hann_window(periodic=True)).
  const window = new Float64Array(p.windowLength);
  for (let n = 0; n < p.windowLength; n++) {
    window[n] = 0.5 - 0.5 * Math.cos(2 * Math.PI * n / p.windowLength);
  }
  const bins = p.fftLength / 2 + 1;
  const mel = melFilterbank({
    melBands: p.melBands,
    spectrogramBins: bins,
    sampleRate: p.sampleRate,
    lowerHz: p.lowerHz,
    upperHz: p.upperHz,
  });
  // Each triangle covers a few bins only; skipping the zeros makes the matmul ~10x cheaper.
  const support: Array<[number, number]> = [];
  for (let band = 0; band < p.melBands; band++) {
    let first = bins;
    let last = 0;
    for (let bin = 0; bin < bins; bin++) {
      if (mel[bin * p.melBands + band]! !== 0) {
        first = Math.min(first, bin);
        last = bin + 1;
      }
    }
    support.push(first < last ? [first, last] : [0, 0]);
  }
  const plan = { fft: new FFT(p.fftLength), window, mel, support };
  plans.set(key, plan);
  return plan;
}

/**
 * Number of frames `tf.signal.frame(..., pad_end=False)` yields: only whole
 * windows, the tail shorter than a window is dropped.
 *
 * @param samples Signal length in samples.
 * @param params Front-end parameters (an audio card's `preprocess.logMel`).
 * @returns `1 + floor((samples - windowLength) / hopLength)`, or 0 if shorter than a window.
 */
export function frameCount(
  samples: number,
  params: Readonly<LogMelParams>,
): number {
  if (samples < params.windowLength) return 0;
  return 1 + Math.floor((samples - params.windowLength) / params.hopLength);
}

/**
 * Computes YAMNet's log-mel spectrogram of a mono waveform.
 *
 * Frames the signal without end padding (`tf.signal.frame`, `pad_end=False`),
 * applies a periodic Hann window, takes the magnitude (not power) of a
 * zero-padded real FFT, maps it through the TF-style mel filterbank
 * ({@linkcode melFilterbank}) and returns `ln(mel + logOffset)`.
 * YAMNet's TFLite graph pads each frame symmetrically inside the FFT buffer
 * instead of at the end; that is a circular shift, which leaves magnitudes
 * unchanged.
 *
 * A signal shorter than one window yields zero frames; pad it first (see
 * `padWaveform`) to mirror YAMNet.
 *
 * @param samples Mono waveform at `params.sampleRate`, scaled to [-1, 1].
 * @param params Front-end parameters (an audio card's `preprocess.logMel`).
 * @returns The spectrogram, `[frames, melBands]` row-major.
 *
 * @example
 * ```ts
 * const { frames, bands } = logMel(new Float32Array(15600), yamnetCard.preprocess.logMel);
 * // frames === 96, bands === 64; silence gives ln(0.001) everywhere
 * ```
 */
export function logMel(
  samples: Float32Array,
  params: Readonly<LogMelParams>,
): LogMel {
  const { fft, window, mel, support } = planFor(params);
  const frames = frameCount(samples.length, params);
  const bands = params.melBands;
  const bins = params.fftLength / 2 + 1;
  const data = new Float32Array(frames * bands);
  const input = new Float64Array(params.fftLength);
  const spectrum = fft.createComplexArray() as number[];
  const magnitude = new Float64Array(bins);
  for (let f = 0; f < frames; f++) {
    const start = f * params.hopLength;
    for (let n = 0; n < params.windowLength; n++) {
      input[n] = samples[start + n]! * window[n]!;
    }
    // input[windowLength..] stays zero: the FFT zero-pads each frame.
    fft.realTransform(spectrum, input);
    for (let k = 0; k < bins; k++) {
      const re = spectrum[2 * k]!;
      const im = spectrum[2 * k + 1]!;
      magnitude[k] = Math.sqrt(re * re + im * im);
    }
    for (let band = 0; band < bands; band++) {
      const [first, last] = support[band]!;
      let sum = 0;
      for (let k = first; k < last; k++) {
        sum += magnitude[k]! * mel[k * bands + band]!;
      }
      data[f * bands + band] = Math.log(sum + params.logOffset);
    }
  }
  return { data, frames, bands };
}
