/**
 * The second family of audio augmentation (views 101, 102, ...: {@linkcode SOURCE_VIEW_BASE}), for
 * what `augment_audio.ts` (views 1-4) does not cover and users' recordings differ by (issue 17, item
 * 3): a second note of the same label and source mixed in (polyphony), tempo (time stretch without
 * a pitch change), bandwidth (telephone / cheap-microphone band-limiting) and lossy codecs at low
 * bitrates. The stretch and the codecs run through the service's own ffmpeg.wasm build
 * (`lib/media/ffmpeg.ts`: `atempo`, libmp3lame, libopus, aac, libvorbis), so a view holds exactly
 * what that ffmpeg makes of the clip.
 *
 * @module
 */
import { runFfmpeg } from "../../lib/media/ffmpeg.ts";
import { uniform } from "../shared/random.ts";
import { biquad, type Coeffs } from "./augment_audio.ts";

const SR = 16000;

/** View numbers above this are of this family (view 101 is its first view); below it, `augment_audio.ts`'s. */
export const SOURCE_VIEW_BASE = 100;

/** Codecs of the round trip: ffmpeg encoder and muxer (as `encodeAudio` in lib/media/ffmpeg.ts writes them). */
export const CODECS = {
  mp3: ["libmp3lame", "mp3"],
  opus: ["libopus", "ogg"],
  aac: ["aac", "ipod"],
  vorbis: ["libvorbis", "ogg"],
} as const;

/** A codec of {@linkcode CODECS}. */
export type Codec = keyof typeof CODECS;

/** What one view of this family did (recorded for reproducibility and tests). */
export interface SourceAugmentation {
  /** A second item of the same label and source mixed in, `gainDb` relative to this one, `offsetS` later. */
  polyphony: { gainDb: number; offsetS: number } | null;
  /** Tempo factor (> 1 faster, shorter); pitch unchanged. */
  stretch: { tempo: number } | null;
  /** 4th-order Butterworth high-pass and / or low-pass corner frequencies (Hz). */
  band: { highPassHz: number | null; lowPassHz: number | null } | null;
  codec: { codec: Codec; kbps: number } | null;
}

/**
 * Draws one view's parameters. Every number is drawn whether or not it is used, in a fixed order,
 * so that a view's draws do not depend on whether a partner exists.
 *
 * @param rand A seeded generator (`createRandom(seedKey).next`).
 * @param hasPartner Whether a second item of the same label and source is available.
 * @returns The view's augmentation; never all null (a view with nothing drawn gets a codec).
 */
export function drawSourceAugmentation(rand: () => number, hasPartner: boolean): SourceAugmentation {
  const poly = { use: rand() < 0.4, gainDb: uniform(rand, -6, 0), offsetS: uniform(rand, 0, 0.15) };
  const stretch = { use: rand() < 0.5, tempo: Math.exp(uniform(rand, Math.log(0.8), Math.log(1.25))) };
  const band = {
    use: rand() < 0.5,
    high: rand() < 0.7 ? Math.exp(uniform(rand, Math.log(80), Math.log(300))) : null,
    low: rand() < 0.7 ? Math.exp(uniform(rand, Math.log(3000), Math.log(7000))) : null,
  };
  const codecs = Object.keys(CODECS) as Codec[];
  const codec = {
    use: rand() < 0.6,
    codec: codecs[Math.min(codecs.length - 1, Math.floor(rand() * codecs.length))]!,
    kbps: [24, 32, 48, 64][Math.min(3, Math.floor(rand() * 4))]!,
  };
  const aug: SourceAugmentation = {
    polyphony: poly.use && hasPartner ? { gainDb: poly.gainDb, offsetS: poly.offsetS } : null,
    stretch: stretch.use ? { tempo: stretch.tempo } : null,
    // A band-limit with neither corner drawn cuts the low end (the cheap-microphone case).
    band: band.use ? { highPassHz: band.high ?? (band.low === null ? 150 : null), lowPassHz: band.low } : null,
    codec: codec.use ? { codec: codec.codec, kbps: codec.kbps } : null,
  };
  if (!aug.polyphony && !aug.stretch && !aug.band && !aug.codec) aug.codec = { codec: codec.codec, kbps: codec.kbps };
  return aug;
}

/**
 * Draws and applies one view: polyphony, then stretch, then band-limit, then the codec (as a
 * player's phone would: the sound, the microphone, the upload).
 *
 * @param samples Mono 16 kHz samples in [-1, 1].
 * @param rand A seeded generator (`createRandom(seedKey).next`).
 * @param partner Samples of another item of the same label and source (16 kHz), if there is one.
 * @returns The augmented samples (stretch changes the length; the rest keep it) and what was done.
 *
 * @example
 * ```ts
 * const { samples } = await augmentSource(decoded, createRandom(`${item.id}#101#1234`).next, partnerSamples);
 * ```
 */
export async function augmentSource(
  samples: Float32Array,
  rand: () => number,
  partner?: Float32Array,
): Promise<{ samples: Float32Array; augmentation: SourceAugmentation }> {
  const aug = drawSourceAugmentation(rand, partner !== undefined && partner.length > 0);
  let y = samples;
  if (aug.polyphony && partner) y = mixPartner(y, partner, aug.polyphony.gainDb, aug.polyphony.offsetS);
  if (aug.stretch) y = await timeStretch(y, aug.stretch.tempo);
  if (aug.band) y = bandLimit(y, aug.band.highPassHz, aug.band.lowPassHz);
  if (aug.codec) y = await codecRoundTrip(y, aug.codec.codec, aug.codec.kbps);
  return { samples: y, augmentation: aug };
}

function rms(x: Float32Array): number {
  let p = 0;
  for (const v of x) p += v * v;
  return Math.sqrt(p / Math.max(1, x.length));
}

/**
 * Mixes `partner` into `x`: level-matched to `x`'s RMS, then `gainDb` relative, starting `offsetS`
 * later (cut to `x`'s length); the mix is scaled back to `x`'s RMS and clipped to [-1, 1].
 *
 * @param x The item's samples.
 * @param partner The other item's samples.
 * @param gainDb Partner level relative to `x` after level matching.
 * @param offsetS Partner start in seconds.
 * @returns The mix, `x.length` samples.
 */
export function mixPartner(x: Float32Array, partner: Float32Array, gainDb: number, offsetS: number): Float32Array {
  const rx = rms(x), rp = rms(partner);
  const out = Float32Array.from(x);
  if (rx === 0 || rp === 0) return out;
  const g = (rx / rp) * Math.pow(10, gainDb / 20), offset = Math.round(offsetS * SR);
  for (let i = offset; i < out.length && i - offset < partner.length; i++) out[i] = out[i]! + g * partner[i - offset]!;
  const scale = rx / (rms(out) || 1);
  for (let i = 0; i < out.length; i++) out[i] = Math.max(-1, Math.min(1, out[i]! * scale));
  return out;
}

/**
 * Changes the tempo without changing the pitch, with ffmpeg's `atempo` filter (WSOLA).
 *
 * @param x Mono 16 kHz samples.
 * @param tempo Speed factor in [0.5, 2] (> 1: shorter).
 * @returns About `x.length / tempo` samples.
 */
export async function timeStretch(x: Float32Array, tempo: number): Promise<Float32Array> {
  if (!(tempo >= 0.5 && tempo <= 2)) throw new RangeError(`timeStretch: tempo must be in [0.5, 2] (got ${tempo})`);
  const out = await runFfmpeg(raw(x), [
    ...["-f", "f32le", "-ar", SR, "-ac", 1, "-i", "in"],
    ...["-af", `atempo=${tempo.toFixed(4)}`, "-f", "f32le", "out"],
  ]);
  return new Float32Array(out.slice().buffer);
}

/** RBJ cookbook low- or high-pass biquad with quality `q`, normalised [b0, b1, b2, a1, a2]. */
function pass(kind: "low" | "high", hz: number, q: number): Coeffs {
  const w = (2 * Math.PI * hz) / SR, cw = Math.cos(w), alpha = Math.sin(w) / (2 * q), a0 = 1 + alpha;
  // b0 = b2 = (1 - cos w) / 2, b1 = 1 - cos w (low-pass); (1 + cos w) / 2 and -(1 + cos w) (high-pass).
  const b0 = kind === "low" ? (1 - cw) / 2 : (1 + cw) / 2, b1 = kind === "low" ? 1 - cw : -(1 + cw);
  return [b0 / a0, b1 / a0, b0 / a0, (-2 * cw) / a0, (1 - alpha) / a0];
}

/** The two sections' Q of a 4th-order Butterworth filter. */
const BUTTERWORTH4_Q = [0.5411961, 1.3065630];

/**
 * Band-limits like a telephone or a cheap microphone: 4th-order Butterworth high-pass and / or
 * low-pass (24 dB / octave beyond each corner), same length out.
 *
 * @param x Mono 16 kHz samples.
 * @param highPassHz Lower corner, or null for none.
 * @param lowPassHz Upper corner (below 8 kHz), or null for none.
 * @returns The filtered samples.
 */
export function bandLimit(x: Float32Array, highPassHz: number | null, lowPassHz: number | null): Float32Array {
  let y: Float64Array = Float64Array.from(x);
  for (const q of BUTTERWORTH4_Q) {
    if (highPassHz !== null) y = biquad(y, pass("high", highPassHz, q));
    if (lowPassHz !== null) y = biquad(y, pass("low", lowPassHz, q));
  }
  return Float32Array.from(y, (v) => Math.max(-1, Math.min(1, v)));
}

/** Longest codec delay searched for when re-aligning a round trip (AAC's priming is 1024 + a frame). */
const MAX_CODEC_DELAY = 2112;

/**
 * Encodes with a lossy codec at `kbps` and decodes again (ffmpeg.wasm, 16 kHz mono in and out), then
 * re-aligns the decoded signal to the input (the lag of largest cross-correlation within
 * {@linkcode MAX_CODEC_DELAY} samples: encoders that leave their priming in add a delay) and cuts
 * or zero-pads it to the input's length.
 *
 * @param x Mono 16 kHz samples.
 * @param codec One of {@linkcode CODECS}.
 * @param kbps Target bitrate in kbit/s.
 * @returns `x.length` samples as the codec returned them.
 */
export async function codecRoundTrip(x: Float32Array, codec: Codec, kbps: number): Promise<Float32Array> {
  if (x.length === 0) return new Float32Array(0);
  const [encoder, muxer] = CODECS[codec];
  const encoded = await runFfmpeg(raw(x), [
    ...["-f", "f32le", "-ar", SR, "-ac", 1, "-i", "in"],
    ...["-c:a", encoder, "-b:a", `${kbps}k`, "-f", muxer, "out"],
  ]);
  const decoded = await runFfmpeg(encoded, ["-i", "in", "-ac", 1, "-ar", SR, "-f", "f32le", "out"]);
  const y = new Float32Array(decoded.slice().buffer);
  const lag = bestLag(x, y);
  const out = new Float32Array(x.length);
  for (let i = 0; i < out.length && i + lag < y.length; i++) out[i] = Math.max(-1, Math.min(1, y[i + lag]!));
  return out;
}

/** The delay of `y` against `x` (0..MAX_CODEC_DELAY samples) of largest cross-correlation over the first 0.5 s. */
function bestLag(x: Float32Array, y: Float32Array): number {
  const n = Math.min(x.length, SR / 2);
  let best = 0, bestC = -Infinity;
  for (let lag = 0; lag <= MAX_CODEC_DELAY && lag < y.length; lag++) {
    let c = 0;
    const m = Math.min(n, y.length - lag);
    for (let i = 0; i < m; i++) c += x[i]! * y[i + lag]!;
    if (c > bestC) bestC = c, best = lag;
  }
  return best;
}

function raw(x: Float32Array): Uint8Array {
  return new Uint8Array(x.buffer.slice(x.byteOffset, x.byteOffset + x.byteLength));
}
