/**
 * AIFF and AIFF-C fast path: `COMM` + `SSND` parsing and PCM/float sample
 * decoding without starting ffmpeg, beside the WAV reader (`wav.ts`) and on
 * the same terms: only the first `maxSeconds` are decoded, allocations are
 * sized from the bytes present (never from header claims), and impossible
 * header values (0 channels, a rate outside 1 kHz..768 kHz, a sample size
 * of 0 or over 32 bits) are a `ProblemError` 422 naming the value.
 *
 * Why our own reader: AIFF is two chunks (big-endian, an 80-bit extended
 * sample rate) and no npm package reads it without converting the whole
 * file first; ffmpeg.wasm would work too but costs a core start per file.
 *
 * Encodings decoded here: AIFF integer PCM (big-endian, 8-32 bit, samples
 * left-justified in whole bytes) and AIFF-C `NONE`/`twos`/`in24`/`in32`
 * (the same), `sowt` (little-endian), `raw ` (unsigned 8-bit), and
 * `fl32`/`fl64` (big-endian IEEE float). Other AIFF-C codecs (µ-law, A-law,
 * IMA ADPCM, ...) are left to ffmpeg.
 *
 * @module
 */

import { ProblemError } from "../errors.ts";
import { type PcmAudio, WAV_MAX_RATE, WAV_MIN_RATE } from "./wav.ts";

/** Parsed `COMM`/`SSND` information of an AIFF file, with sizes clamped to the bytes present. */
export interface AiffHeader {
  /** `AIFF`, or `AIFC` (AIFF-C). */
  form: "AIFF" | "AIFC";
  /** Compression type: `NONE` for plain AIFF, else the AIFF-C four-character code as found (e.g. `sowt`). */
  compression: string;
  /** Channels per frame (1..32767). */
  channels: number;
  /** Frames per second, in [{@linkcode WAV_MIN_RATE}, {@linkcode WAV_MAX_RATE}]. */
  sampleRate: number;
  /** Bits per sample as `COMM` states them (1..32 for PCM; 32 or 64 for float). */
  sampleSize: number;
  /** Bytes of each sample's container. */
  bytesPerSample: number;
  /** Byte offset of the first sample. */
  dataOffset: number;
  /** Whole frames present: the smaller of `COMM`'s frame count (unless 0) and what `SSND` holds. */
  frames: number;
}

/** AIFF-C compression types that are big-endian two's-complement PCM (`NONE` is also plain AIFF's). */
const BIG_ENDIAN_PCM = new Set(["NONE", "twos", "in24", "in32", "lpcm"]);
/** AIFF-C compression types of big-endian IEEE float samples. */
const FLOAT = new Set(["fl32", "FL32", "fl64", "FL64"]);

function fail(detail: string): never {
  throw new ProblemError(422, `Cannot decode AIFF: ${detail}`);
}

function tag(view: DataView, at: number): string {
  return String.fromCharCode(view.getUint8(at), view.getUint8(at + 1), view.getUint8(at + 2), view.getUint8(at + 3));
}

/** Four printable ASCII characters: what a chunk ID looks like. */
function looksLikeId(view: DataView, at: number): boolean {
  if (at + 8 > view.byteLength) return false;
  for (let i = 0; i < 4; i++) {
    const c = view.getUint8(at + i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/**
 * The 80-bit IEEE 754 extended-precision number at `at` (AIFF's sample rate
 * field): sign, 15-bit exponent (bias 16383), 64-bit mantissa with an
 * explicit integer bit.
 */
function extended(view: DataView, at: number): number {
  const signExponent = view.getUint16(at);
  const hi = view.getUint32(at + 2);
  const lo = view.getUint32(at + 6);
  const exponent = signExponent & 0x7fff;
  if (exponent === 0 && hi === 0 && lo === 0) return 0;
  if (exponent === 0x7fff) return NaN;
  const value = (hi * 2 ** 32 + lo) * 2 ** (exponent - 16383 - 63);
  return signExponent & 0x8000 ? -value : value;
}

/**
 * Reads an AIFF or AIFF-C header.
 *
 * Chunks of odd size are followed by a pad byte, but some writers leave it
 * out (go-audio's `padded24b.aif`); when the byte after an odd chunk does not
 * start a chunk ID and the one before it does, the pad is taken as missing.
 *
 * @param bytes The whole file.
 * @returns The header, with `frames` clamped to the samples actually present.
 * @throws {ProblemError} 422 when the header is missing, truncated or impossible.
 *
 * @example
 * ```ts
 * const { sampleRate, channels, compression } = readAiffHeader(await Deno.readFile("loop.aif"));
 * ```
 */
export function readAiffHeader(bytes: Uint8Array): AiffHeader {
  if (bytes.length < 12) fail(`file is ${bytes.length} bytes, shorter than a FORM header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const form = tag(view, 8);
  if (tag(view, 0) !== "FORM" || (form !== "AIFF" && form !== "AIFC")) fail("missing FORM AIFF/AIFC signature");

  let comm: Omit<AiffHeader, "form" | "dataOffset" | "frames"> & { frames: number } | undefined;
  let ssnd: { offset: number; size: number } | undefined;
  let at = 12;
  while (at + 8 <= bytes.length && !(comm && ssnd)) {
    const id = tag(view, at);
    const declared = view.getUint32(at + 4);
    const body = at + 8;
    if (id === "COMM") {
      comm = parseComm(view, body, declared, form);
    } else if (id === "SSND") {
      if (body + 8 > bytes.length) fail("'SSND' chunk is truncated");
      const offset = view.getUint32(body); // bytes to skip before the first sample (block alignment)
      const start = body + 8 + offset;
      if (start > bytes.length) fail(`'SSND' data offset ${offset} points past the end of the file`);
      const end = Math.min(bytes.length, body + declared);
      ssnd = { offset: start, size: Math.max(0, end - start) };
      // A lying SSND size can make the walk skip `COMM` after it; only go on when the size is credible.
      if (!comm && body + declared > bytes.length) break;
    }
    let next = body + declared;
    if (declared & 1) next = !looksLikeId(view, next + 1) && looksLikeId(view, next) ? next : next + 1;
    at = next;
  }
  if (!comm) fail("no 'COMM' chunk");
  if (!ssnd) fail("no 'SSND' chunk");
  const frameBytes = comm.channels * comm.bytesPerSample;
  const present = Math.floor(ssnd.size / frameBytes);
  // A frame count of 0 over a non-empty SSND is what a writer that never went back to patch COMM leaves.
  const frames = comm.frames === 0 ? present : Math.min(comm.frames, present);
  return { form, ...comm, dataOffset: ssnd.offset, frames };
}

function parseComm(
  view: DataView,
  at: number,
  size: number,
  form: "AIFF" | "AIFC",
): Omit<AiffHeader, "form" | "dataOffset" | "frames"> & { frames: number } {
  const needed = form === "AIFC" ? 22 : 18;
  if (size < needed || at + needed > view.byteLength) fail(`'COMM' chunk of ${size} bytes is too short`);
  const channels = view.getInt16(at);
  const frames = view.getUint32(at + 2);
  const sampleSize = view.getInt16(at + 6);
  const sampleRate = extended(view, at + 8);
  const compression = form === "AIFC" ? tag(view, at + 18) : "NONE";
  if (channels <= 0) fail(`header declares ${channels} channels`);
  if (!(sampleRate >= WAV_MIN_RATE && sampleRate <= WAV_MAX_RATE)) {
    fail(`sample rate ${sampleRate} Hz is outside ${WAV_MIN_RATE}..${WAV_MAX_RATE} Hz`);
  }
  const float = FLOAT.has(compression);
  let bytesPerSample: number;
  if (float) {
    bytesPerSample = compression.endsWith("32") ? 4 : 8;
  } else if (isPcm(compression)) {
    if (sampleSize < 1 || sampleSize > 32) fail(`sample size ${sampleSize} bits is outside 1..32`);
    bytesPerSample = Math.ceil(sampleSize / 8);
  } else {
    // Compressed AIFF-C (ulaw, alaw, ima4, ...): ffmpeg decodes it; the frame size here only bounds the walk.
    bytesPerSample = 1;
  }
  // Rates are integers in practice; a fractional one (e.g. 44099.9999) would only mislead the resampler's ratio.
  return {
    compression,
    channels,
    sampleRate: Math.round(sampleRate),
    sampleSize,
    bytesPerSample,
    frames,
  };
}

function isPcm(compression: string): boolean {
  return BIG_ENDIAN_PCM.has(compression) || compression === "sowt" || compression === "raw ";
}

/**
 * Whether {@linkcode decodeAiff} decodes this header's encoding itself;
 * other AIFF-C codecs are left to ffmpeg.
 *
 * @param header A header from {@linkcode readAiffHeader}.
 * @returns True for integer PCM (either byte order, 8-32 bit) and 32/64-bit float.
 */
export function isFastPathAiff(header: AiffHeader): boolean {
  return isPcm(header.compression) || FLOAT.has(header.compression);
}

/**
 * Decodes the first `maxSeconds` of a PCM or float AIFF/AIFF-C file.
 *
 * @param bytes The whole file.
 * @param options `maxSeconds` (default 30): decode at most this much audio.
 * @returns Planar float channels, the file's rate, its full duration and whether it was cut.
 * @throws {ProblemError} 422 for malformed headers, codecs outside the fast
 *   path (see {@linkcode isFastPathAiff}) and files with no whole frame.
 *
 * @example
 * ```ts
 * const { channels, sampleRate } = decodeAiff(await Deno.readFile("kick.aif"), { maxSeconds: 10 });
 * ```
 */
export function decodeAiff(bytes: Uint8Array, options: { maxSeconds?: number } = {}): PcmAudio {
  const maxSeconds = options.maxSeconds ?? 30;
  const header = readAiffHeader(bytes);
  if (!isFastPathAiff(header)) fail(`unsupported compression '${header.compression}'`);
  if (header.frames === 0) fail("the 'SSND' chunk holds no complete sample frame");
  const { channels: count, sampleRate, bytesPerSample: step, dataOffset } = header;
  const frames = Math.min(header.frames, Math.ceil(maxSeconds * sampleRate));
  const view = new DataView(bytes.buffer, bytes.byteOffset + dataOffset, bytes.byteLength - dataOffset);
  const read = sampleReader(view, header.compression, step);
  const channels: Float32Array[] = [];
  for (let c = 0; c < count; c++) {
    const out = new Float32Array(frames);
    for (let f = 0, at = c * step; f < frames; f++, at += count * step) out[f] = read(at);
    channels.push(out);
  }
  return { channels, sampleRate, durationSeconds: header.frames / sampleRate, truncated: frames < header.frames };
}

/** A function reading one sample at a byte offset, scaled to [-1, 1). */
function sampleReader(view: DataView, compression: string, bytes: number): (at: number) => number {
  // Non-finite floats would poison every later stage (resampler, log-mel); treat them as silence.
  if (compression.toLowerCase() === "fl32") return (at) => finite(view.getFloat32(at));
  if (compression.toLowerCase() === "fl64") return (at) => finite(view.getFloat64(at));
  if (compression === "raw ") return (at) => (view.getUint8(at) - 128) / 128; // offset-binary 8-bit
  const little = compression === "sowt";
  // Samples narrower than their container are left-justified, so reading the whole container scales them right.
  switch (bytes) {
    case 1:
      return (at) => view.getInt8(at) / 128;
    case 2:
      return (at) => view.getInt16(at, little) / 32768;
    case 3:
      return little
        ? (at) => (view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16)) / 8388608
        : (at) => ((view.getInt8(at) << 16) | (view.getUint8(at + 1) << 8) | view.getUint8(at + 2)) / 8388608;
    default:
      return (at) => view.getInt32(at, little) / 2147483648;
  }
}

function finite(x: number): number {
  return Number.isFinite(x) ? x : 0;
}
