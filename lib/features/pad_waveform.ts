/**
 * YAMNet's waveform padding (`pad_waveform` in `features.py`).
 *
 * @module
 */

/** Patch geometry in samples; {@linkcode YAMNET_PATCH_SAMPLES} holds YAMNet's. */
export interface PatchSamples {
  /** Samples one patch needs: patch window + one STFT window - one STFT hop. */
  window: number;
  /** Samples between the starts of consecutive patches. */
  hop: number;
}

/**
 * YAMNet at 16 kHz: (0.96 s + 0.025 s - 0.010 s) * 16000 = 15600 samples per
 * patch (96 frames), 0.48 s * 16000 = 7680 samples (48 frames) between patches.
 */
export const YAMNET_PATCH_SAMPLES: Readonly<PatchSamples> = Object.freeze({
  window: 15600,
  hop: 7680,
});

/**
 * Pads a waveform with trailing zeros the way YAMNet does before computing
 * features: to at least one patch, then up to a whole number of patch hops, so
 * the last partial patch is kept (zero-filled) instead of dropped.
 *
 * The padded length is `window + hop * k` for the smallest `k >= 0` that
 * covers the input; {@linkcode patchWindowCount} gives `k + 1`.
 *
 * @param samples Mono waveform.
 * @param geometry Patch geometry in samples; YAMNet's by default.
 * @returns The input itself when no padding is needed, else a padded copy.
 *
 * @example
 * ```ts
 * padWaveform(new Float32Array(100)).length; // 15600
 * padWaveform(new Float32Array(15601)).length; // 15600 + 7680
 * ```
 */
export function padWaveform(
  samples: Float32Array,
  geometry: Readonly<PatchSamples> = YAMNET_PATCH_SAMPLES,
): Float32Array {
  const target = geometry.window +
    geometry.hop *
      Math.ceil(Math.max(0, samples.length - geometry.window) / geometry.hop);
  if (target === samples.length) return samples;
  const padded = new Float32Array(target);
  padded.set(samples);
  return padded;
}

/**
 * Number of patch windows in a waveform padded by {@linkcode padWaveform}
 * (or any waveform: whole windows only).
 *
 * @param length Waveform length in samples.
 * @param geometry Patch geometry in samples; YAMNet's by default.
 * @returns `1 + floor((length - window) / hop)`, or 0 if shorter than a window.
 */
export function patchWindowCount(
  length: number,
  geometry: Readonly<PatchSamples> = YAMNET_PATCH_SAMPLES,
): number {
  if (length < geometry.window) return 0;
  return 1 + Math.floor((length - geometry.window) / geometry.hop);
}
