/**
 * Mono downmix and band-limited resampling to the encoders' 16 kHz.
 *
 * Resampling uses libsamplerate (npm `@alexanderolsen/libsamplerate-js`, a
 * wasm2js build: plain JavaScript, so it needs no WebAssembly permissions and
 * runs unchanged in Deno and in Workers).
 *
 * @module
 */

import LibSampleRate from "@alexanderolsen/libsamplerate-js";

/** The sample rate every audio encoder takes. */
export const MODEL_SAMPLE_RATE = 16000;

/**
 * libsamplerate converters by name. Measured at 48 kHz -> 16 kHz (gain of a
 * sine at 7.4 / 7.8 / 10 kHz): best 0 / -16 / -152 dB, medium -8 / -42 /
 * -122 dB, fastest -30 / -60 / -101 dB. YAMNet's mel bank reaches 7.5 kHz, so
 * only "best" leaves its top bands intact (and matches ffmpeg's swresample
 * cutoff of 0.97 x Nyquist used for the non-WAV formats), at about 4x the
 * cost of "medium".
 */
const CONVERTERS = { best: 0, medium: 1, fastest: 2 } as const;

/** Resampler quality, see {@linkcode resample}. */
export type ResampleQuality = keyof typeof CONVERTERS;

interface Src {
  simple(data: Float32Array): Float32Array;
  destroy(): void;
}
const { create } = LibSampleRate as unknown as {
  create(channels: number, from: number, to: number, options: { converterType: number }): Promise<Src>;
};

/** Highest input rate libsamplerate-js accepts. */
export const MAX_RESAMPLE_RATE = 192_000;

/**
 * Averages channels into one.
 *
 * @param channels Planar channels of equal length (at least one).
 * @returns The mean of the channels, sample by sample (the input itself when there is one channel).
 *
 * @example
 * ```ts
 * downmix([new Float32Array([1, 0]), new Float32Array([0, 0])]); // Float32Array [0.5, 0]
 * ```
 */
export function downmix(channels: readonly Float32Array[]): Float32Array {
  const first = channels[0];
  if (!first) throw new RangeError("Cannot downmix: no channels");
  if (channels.length === 1) return first;
  const out = new Float32Array(first.length);
  for (const channel of channels) {
    if (channel.length !== first.length) {
      throw new RangeError(`Cannot downmix: channel lengths differ (${channel.length} != ${first.length})`);
    }
    for (let i = 0; i < out.length; i++) out[i]! += channel[i]!;
  }
  const scale = 1 / channels.length;
  for (let i = 0; i < out.length; i++) out[i]! *= scale;
  return out;
}

/**
 * Resamples mono audio with libsamplerate's windowed-sinc converters.
 *
 * The output is time-aligned with the input and exactly
 * `round(samples.length * toRate / fromRate)` long: libsamplerate's simple
 * API drops the filter's tail, so the input is padded with silence first.
 *
 * @param samples Mono samples at `fromRate`.
 * @param fromRate Input rate in Hz, 1..192000.
 * @param toRate Output rate in Hz (default 16000).
 * @param options `quality` (default "best"): see `CONVERTERS` above for measured stop-band numbers.
 * @returns A new array at `toRate` (a copy even when the rates match).
 *
 * @example
 * ```ts
 * const y = await resample(new Float32Array(44100), 44100); // 16000 samples
 * ```
 */
export async function resample(
  samples: Float32Array,
  fromRate: number,
  toRate: number = MODEL_SAMPLE_RATE,
  options: { quality?: ResampleQuality } = {},
): Promise<Float32Array> {
  for (const [name, rate] of [["fromRate", fromRate], ["toRate", toRate]] as const) {
    if (!Number.isFinite(rate) || rate < 1 || rate > MAX_RESAMPLE_RATE) {
      throw new RangeError(`Cannot resample: ${name} ${rate} Hz is outside 1..${MAX_RESAMPLE_RATE} Hz`);
    }
  }
  const outLength = Math.round(samples.length * toRate / fromRate);
  if (fromRate === toRate) return samples.slice();
  if (samples.length === 0) return new Float32Array(0);
  // 50 ms of silence covers the longest ("best") filter's half-length at every ratio.
  // A fresh, offset-0 array also sidesteps libsamplerate-js chunking large inputs
  // through `input.buffer` without the view's byteOffset.
  const padded = new Float32Array(samples.length + Math.ceil(fromRate * 0.05));
  padded.set(samples);
  // A new converter per call: libsamplerate-js chunks inputs over ~1M samples
  // through its stateful "full" API, so a reused converter would leak filter
  // state from one signal into the next (creating one costs ~4 ms).
  const src = await create(1, fromRate, toRate, { converterType: CONVERTERS[options.quality ?? "best"] });
  try {
    const out = src.simple(padded);
    if (out.length >= outLength) return out.slice(0, outLength);
    const full = new Float32Array(outLength);
    full.set(out);
    return full;
  } finally {
    src.destroy();
  }
}
