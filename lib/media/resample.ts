/**
 * Mono downmix and band-limited resampling to the encoders' 16 kHz.
 *
 * The resampler is a polyphase windowed-sinc (Kaiser) filter designed for
 * this service rather than npm `@alexanderolsen/libsamplerate-js`, which
 * does work in Deno but is a wasm2js build (plain JavaScript emulating
 * WebAssembly): measured on this machine, its "best" converter took
 * 0.4–0.8 s per 10 s of 44.1 kHz audio (over 20x ffmpeg's decode of the same
 * audio as MP3), "medium" attenuates 7.4 kHz by 8 dB and "fastest" 7 kHz by
 * 14 dB, cutting into YAMNet's mel range (125–7500 Hz). This filter keeps
 * that range flat and puts every alias that could land in it 90 dB down, at
 * roughly 50 ms per 10 s of 44.1 kHz audio. libsamplerate stays in the
 * tests as an independent reference.
 *
 * Design, with `nyquist` the lower of the two Nyquist frequencies (8 kHz at
 * a 16 kHz output): passband to 0.9375 x nyquist (7.5 kHz), -6 dB at
 * nyquist, stopband from 1.0625 x nyquist (8.5 kHz; what lies between 8 and
 * 8.5 kHz aliases to 7.5–8 kHz, above the mel bank), 90 dB stopband
 * attenuation (Kaiser beta 8.96, 46 zero crossings each side). Output
 * sample n sits exactly at input time n / toRate (no delay); samples
 * before the start and after the end count as silence.
 *
 * Both decoding paths (the WAV fast path and ffmpeg, which hands over
 * native-rate audio) use this function, so a recording resamples the same
 * whatever format it was uploaded in.
 *
 * @module
 */

/** The sample rate every audio encoder takes. */
export const MODEL_SAMPLE_RATE = 16000;

/** Stopband attenuation in dB. */
const ATTENUATION_DB = 90;
/** Half the transition band, as a fraction of the lower Nyquist frequency. */
const HALF_TRANSITION = 0.0625;
/** Kaiser beta for {@linkcode ATTENUATION_DB} (Kaiser's formula for A > 50 dB). */
const BETA = 0.1102 * (ATTENUATION_DB - 8.7);
/**
 * Half-length of the prototype filter in zero crossings (periods of the
 * lower rate), from Kaiser's length estimate N = (A - 7.95) / (2.285 dw).
 */
const HALF_WIDTH = Math.ceil((ATTENUATION_DB - 7.95) / (2.285 * 2 * Math.PI * 2 * HALF_TRANSITION * 0.5) / 2);
/**
 * Most filter phases kept, and most weights per bank (16 MB). Rate pairs
 * needing more phases (22051 Hz -> 16 kHz needs 16000) have their
 * sub-sample position rounded to the nearest kept phase: at most 1/8192 of
 * a 22.05 kHz sample, an error below -70 dB at 7.5 kHz (measured by the
 * tests through the tone and stopband checks at 22051 Hz).
 */
const MAX_PHASES = 4096;
const MAX_WEIGHTS = 4 * 1024 * 1024;

/** Input rates accepted, in Hz. */
export const MIN_RESAMPLE_RATE = 1000;
/** Highest input rate accepted, in Hz (the filter then spans ~4400 input samples). */
export const MAX_RESAMPLE_RATE = 768_000;

interface Bank {
  /** Input steps per output sample, as the fraction `step / phases`. */
  step: number;
  phases: number;
  /** Taps per phase (2 x reach). */
  taps: number;
  /** Input samples the filter reaches on each side. */
  reach: number;
  /** `phases * taps` weights, phase-major. */
  weights: Float32Array;
}

/** Banks by "from/to"; a handful of distinct rates occur in practice. */
const banks = new Map<string, Bank>();

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
 * Resamples mono audio with a band-limited windowed-sinc filter (see the
 * module notes for its response).
 *
 * @param samples Mono samples at `fromRate`.
 * @param fromRate Input rate in Hz, an integer in 1000..768000.
 * @param toRate Output rate in Hz, same range (default 16000).
 * @returns A new array of `round(samples.length * toRate / fromRate)`
 *   samples, time-aligned with the input (a copy when the rates match).
 *
 * @example
 * ```ts
 * const y = resample(new Float32Array(44100), 44100); // 16000 samples
 * ```
 */
export function resample(samples: Float32Array, fromRate: number, toRate: number = MODEL_SAMPLE_RATE): Float32Array {
  for (const [name, rate] of [["fromRate", fromRate], ["toRate", toRate]] as const) {
    if (!Number.isInteger(rate) || rate < MIN_RESAMPLE_RATE || rate > MAX_RESAMPLE_RATE) {
      throw new RangeError(
        `Cannot resample: ${name} ${rate} Hz is not an integer in ${MIN_RESAMPLE_RATE}..${MAX_RESAMPLE_RATE} Hz`,
      );
    }
  }
  if (fromRate === toRate) return samples.slice();
  const bank = bankFor(fromRate, toRate);
  const { step, phases, taps, reach, weights } = bank;
  const length = samples.length;
  const out = new Float32Array(Math.round(length * toRate / fromRate));
  for (let n = 0; n < out.length; n++) {
    // Position of output n in input samples is n * step / phases = k0 + phase / phases.
    const position = n * step;
    let k0 = Math.floor(position / phases);
    let phase = position - k0 * phases;
    if (!Number.isInteger(phase)) {
      // Only when phases were capped: round to the nearest kept phase.
      phase = Math.round(phase);
      if (phase === phases) {
        phase = 0;
        k0++;
      }
    }
    const start = k0 - reach + 1;
    const base = phase * taps;
    let acc = 0;
    if (start >= 0 && start + taps <= length) {
      for (let j = 0; j < taps; j++) acc += weights[base + j]! * samples[start + j]!;
    } else {
      const from = Math.max(0, -start);
      const to = Math.min(taps, length - start);
      for (let j = from; j < to; j++) acc += weights[base + j]! * samples[start + j]!;
    }
    out[n] = acc;
  }
  return out;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

function bankFor(fromRate: number, toRate: number): Bank {
  const key = `${fromRate}/${toRate}`;
  let bank = banks.get(key);
  if (!bank) {
    bank = buildBank(fromRate, toRate);
    if (banks.size >= 16) banks.delete(banks.keys().next().value!);
    banks.set(key, bank);
  }
  return bank;
}

function buildBank(fromRate: number, toRate: number): Bank {
  // Filter time is measured in periods of the lower rate; one input sample is `unit` of them.
  const unit = Math.min(fromRate, toRate) / fromRate;
  const reach = Math.ceil(HALF_WIDTH / unit);
  const taps = 2 * reach;
  const g = gcd(fromRate, toRate);
  let phases = toRate / g;
  let step = fromRate / g; // input samples per output sample = step / phases
  const cap = Math.min(MAX_PHASES, Math.max(1, Math.floor(MAX_WEIGHTS / taps)));
  if (phases > cap) {
    step = step * cap / phases; // no longer an integer: phases get rounded in resample()
    phases = cap;
  }
  const weights = new Float32Array(phases * taps);
  const i0Beta = besselI0(BETA);
  for (let p = 0; p < phases; p++) {
    const frac = p / phases;
    for (let j = 0; j < taps; j++) {
      // Tap j reads input k0 - reach + 1 + j, at distance frac - (j - reach + 1) input samples.
      const t = (frac - (j - reach + 1)) * unit;
      const u = t / HALF_WIDTH;
      if (Math.abs(u) >= 1) continue;
      const sinc = t === 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t);
      weights[p * taps + j] = unit * sinc * besselI0(BETA * Math.sqrt(1 - u * u)) / i0Beta;
    }
  }
  return { step, phases, taps, reach, weights };
}

/** Modified Bessel function of the first kind, order 0 (power series; converges fast for beta < 20). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x / 2) ** 2;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}
