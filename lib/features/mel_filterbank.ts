/**
 * The mel filterbank YAMNet uses, built like TensorFlow's
 * `tf.signal.linear_to_mel_weight_matrix`.
 *
 * @module
 */

/** Options of {@linkcode melFilterbank}. */
export interface MelFilterbankOptions {
  /** Number of mel bands (columns). */
  melBands: number;
  /** Number of linear spectrogram bins (rows), `fftLength / 2 + 1`. */
  spectrogramBins: number;
  /** Sample rate of the signal in Hz. */
  sampleRate: number;
  /** Lower edge of the lowest band in Hz. */
  lowerHz: number;
  /** Upper edge of the highest band in Hz. */
  upperHz: number;
}

// HTK mel scale constants, as in tensorflow/python/ops/signal/mel_ops.py.
const MEL_BREAK_FREQUENCY_HERTZ = 700;
const MEL_HIGH_FREQUENCY_Q = 1127;

/**
 * Converts a frequency in Hz to the HTK mel scale,
 * `1127 * ln(1 + hz / 700)`.
 *
 * @param hz Frequency in Hz.
 * @returns The frequency in mel.
 */
export function hertzToMel(hz: number): number {
  return MEL_HIGH_FREQUENCY_Q * Math.log(1 + hz / MEL_BREAK_FREQUENCY_HERTZ);
}

/**
 * Builds the `[spectrogramBins, melBands]` weight matrix (row-major) that maps a
 * linear magnitude spectrum to mel bands, reproducing
 * `tf.signal.linear_to_mel_weight_matrix`:
 *
 * - bin frequencies are `linspace(0, sampleRate / 2, spectrogramBins)`;
 * - the DC bin is excluded from the triangles and its row is all zeros (HTK);
 * - band edges are `melBands + 2` points evenly spaced in mel between
 *   `lowerHz` and `upperHz`; each band is a triangle in the mel domain,
 *   `max(0, min(rising slope, falling slope))`, with no area normalisation.
 *
 * TensorFlow computes this in float32; computing in float64 and rounding the
 * result differs by about 1e-7 relative, far below the tolerance of any
 * consumer.
 *
 * @param options Band layout.
 * @returns Row-major weights, `weights[bin * melBands + band]`.
 *
 * @example
 * ```ts
 * const w = melFilterbank({
 *   melBands: 64, spectrogramBins: 257, sampleRate: 16000, lowerHz: 125, upperHz: 7500,
 * });
 * w.length; // 257 * 64
 * ```
 */
export function melFilterbank(options: MelFilterbankOptions): Float32Array {
  const { melBands, spectrogramBins, sampleRate, lowerHz, upperHz } = options;
  if (!(melBands > 0 && spectrogramBins > 1)) {
    throw new RangeError(
      `Cannot build mel filterbank: melBands (${melBands}) must be > 0 and spectrogramBins (${spectrogramBins}) > 1`,
    );
  }
  if (!(lowerHz >= 0 && lowerHz < upperHz && upperHz <= sampleRate / 2)) {
    throw new RangeError(
      `Cannot build mel filterbank: need 0 <= lowerHz (${lowerHz}) < upperHz (${upperHz}) <= sampleRate / 2 (${
        sampleRate / 2
      })`,
    );
  }
  const nyquist = sampleRate / 2;
  const lowerMel = hertzToMel(lowerHz);
  const upperMel = hertzToMel(upperHz);
  const edges = new Float64Array(melBands + 2);
  for (let i = 0; i < edges.length; i++) {
    edges[i] = lowerMel + (upperMel - lowerMel) * i / (melBands + 1);
  }
  const weights = new Float32Array(spectrogramBins * melBands);
  // Row 0 (DC) stays zero: TF slices it out before computing slopes and pads it back.
  for (let bin = 1; bin < spectrogramBins; bin++) {
    const binMel = hertzToMel(nyquist * bin / (spectrogramBins - 1));
    for (let band = 0; band < melBands; band++) {
      const lower = edges[band]!;
      const center = edges[band + 1]!;
      const upper = edges[band + 2]!;
      const rising = (binMel - lower) / (center - lower);
      const falling = (upper - binMel) / (upper - center);
      weights[bin * melBands + band] = Math.max(0, Math.min(rising, falling));
    }
  }
  return weights;
}
