/**
 * WAV fast path: RIFF/RF64 WAVE parsing and PCM/float sample decoding
 * without starting ffmpeg.
 *
 * Why our own reader rather than npm `wavefile`: `wavefile` converts the
 * whole file to Float64 (8 bytes per sample, every sample, before we can cut
 * at `maxSeconds`) and trusts the header sizes; uploads are untrusted, so this
 * reader (1) decodes only the first `maxSeconds`, (2) sizes every allocation
 * from the bytes actually present, never from header claims (a data chunk
 * that says 4 GiB in a 1 KiB upload yields what is there), and (3) turns each
 * impossible header value (0 channels, 0 Hz, 10 MHz, unknown encoding) into a
 * `ProblemError` 422 naming the value. `wavefile` is still used by the tests as
 * an independent writer.
 *
 * @module
 */

import { ProblemError } from "../errors.ts";

/** WAVE format tags (and WAVE_FORMAT_EXTENSIBLE sub-format codes). */
const FORMAT_PCM = 0x0001;
const FORMAT_FLOAT = 0x0003;
const FORMAT_EXTENSIBLE = 0xfffe;

/** Sample rates outside this range are treated as corrupt headers. */
export const WAV_MIN_RATE = 1000;
/** Highest sample rate accepted in a WAV header (768 kHz, the highest in real use). */
export const WAV_MAX_RATE = 768_000;

/** Parsed `fmt `/`data` information of a WAV file, with sizes clamped to the bytes present. */
export interface WavHeader {
  /** Effective encoding: 1 = integer PCM, 3 = IEEE float, anything else as found (e.g. 6 A-law). */
  encoding: number;
  /** Channels per frame (1..65535). */
  channels: number;
  /** Frames per second, in [{@linkcode WAV_MIN_RATE}, {@linkcode WAV_MAX_RATE}]. */
  sampleRate: number;
  /** Bits of each sample's container (8, 16, 24, 32 or 64 for the supported encodings). */
  bitsPerSample: number;
  /** Byte offset of the first sample. */
  dataOffset: number;
  /** Whole frames present in the file (header claims beyond the end of the file are ignored). */
  frames: number;
}

/** Decoded WAV audio: planar float channels at the file's own rate. */
export interface PcmAudio {
  /** One array per channel, samples nominally in [-1, 1]. */
  channels: Float32Array[];
  /** Frames per second. */
  sampleRate: number;
  /** Length of the whole file's audio, in seconds. */
  durationSeconds: number;
  /** True when the file is longer than `maxSeconds` and only its start was decoded. */
  truncated: boolean;
}

function fail(detail: string): never {
  throw new ProblemError(422, `Cannot decode WAV: ${detail}`);
}

function tag(view: DataView, at: number): string {
  return String.fromCharCode(
    view.getUint8(at),
    view.getUint8(at + 1),
    view.getUint8(at + 2),
    view.getUint8(at + 3),
  );
}

/**
 * Reads a WAV header (RIFF, RF64 or BW64; plain or WAVE_FORMAT_EXTENSIBLE).
 *
 * @param bytes The whole file.
 * @returns The header, with `frames` clamped to the data actually present.
 * @throws {ProblemError} 422 when the header is missing, truncated or impossible.
 *
 * @example
 * ```ts
 * const { sampleRate, channels } = readWavHeader(await Deno.readFile("a.wav"));
 * ```
 */
export function readWavHeader(bytes: Uint8Array): WavHeader {
  if (bytes.length < 12) fail(`file is ${bytes.length} bytes, shorter than a RIFF header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const riff = tag(view, 0);
  if (!["RIFF", "RF64", "BW64"].includes(riff) || tag(view, 8) !== "WAVE") {
    fail("missing RIFF/RF64 WAVE signature");
  }

  let ds64DataSize: number | undefined;
  let fmt: Omit<WavHeader, "dataOffset" | "frames"> | undefined;
  let data: { offset: number; size: number } | undefined;
  let at = 12;
  while (at + 8 <= bytes.length && !(fmt && data)) {
    const id = tag(view, at);
    const declared = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === "ds64" && declared >= 16 && body + 16 <= bytes.length) {
      // RF64: the real data size is a 64-bit field here; the data chunk says 0xFFFFFFFF.
      ds64DataSize = Number(view.getBigUint64(body + 8, true));
    } else if (id === "fmt ") {
      fmt = parseFmt(view, body, declared);
    } else if (id === "data") {
      const claimed = declared === 0xffffffff && ds64DataSize !== undefined ? ds64DataSize : declared;
      // A size of 0 or 0xFFFFFFFF is what streaming writers leave behind: read to the end.
      const sized = claimed === 0 || claimed === 0xffffffff ? Infinity : claimed;
      data = { offset: body, size: Math.min(sized, bytes.length - body) };
      if (!fmt) {
        // `fmt ` after `data` is legal but rare; only keep scanning when the size is credible.
        if (!Number.isFinite(sized) || body + sized > bytes.length) break;
      }
    }
    at = body + declared + (declared & 1); // chunks are padded to even sizes
  }
  if (!fmt) fail("no 'fmt ' chunk");
  if (!data) fail("no 'data' chunk");
  const frameBytes = fmt.channels * (fmt.bitsPerSample / 8);
  const frames = Math.floor(data.size / frameBytes);
  return { ...fmt, dataOffset: data.offset, frames };
}

function parseFmt(view: DataView, at: number, size: number): Omit<WavHeader, "dataOffset" | "frames"> {
  if (size < 16 || at + 16 > view.byteLength) fail(`'fmt ' chunk of ${size} bytes is too short`);
  let encoding = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  let bitsPerSample = view.getUint16(at + 14, true);
  if (encoding === FORMAT_EXTENSIBLE) {
    if (size < 40 || at + 40 > view.byteLength) fail("WAVE_FORMAT_EXTENSIBLE 'fmt ' chunk is too short");
    // The first two bytes of the sub-format GUID are the actual format tag.
    encoding = view.getUint16(at + 24, true);
  }
  if (channels === 0) fail("header declares 0 channels");
  if (sampleRate < WAV_MIN_RATE || sampleRate > WAV_MAX_RATE) {
    fail(`sample rate ${sampleRate} Hz is outside ${WAV_MIN_RATE}..${WAV_MAX_RATE} Hz`);
  }
  if (bitsPerSample === 0) fail("header declares 0 bits per sample");
  // Containers are whole bytes; e.g. 20-bit audio sits left-justified in 24-bit containers.
  const containerBits = Math.ceil(bitsPerSample / 8) * 8;
  // For PCM and float, a frame is exactly one container per channel; a header that says otherwise (7 bits per
  // sample with block align 0) contradicts itself, and guessing which field is right would decode noise or silence.
  const blockAlign = view.getUint16(at + 12, true);
  if ((encoding === FORMAT_PCM || encoding === FORMAT_FLOAT) && blockAlign !== channels * (containerBits / 8)) {
    fail(
      `inconsistent header: block align ${blockAlign} for ${channels} channel(s) of ${bitsPerSample}-bit samples ` +
        `(expected ${channels * (containerBits / 8)})`,
    );
  }
  bitsPerSample = containerBits;
  return { encoding, channels, sampleRate, bitsPerSample };
}

/**
 * Whether {@linkcode decodeWav} decodes this header's encoding itself
 * (integer PCM 8/16/24/32-bit, IEEE float 32/64-bit); other WAV encodings
 * (A-law, µ-law, ADPCM, ...) are left to ffmpeg.
 *
 * @param header A header from {@linkcode readWavHeader}.
 * @returns True when the fast path applies.
 */
export function isFastPathWav(header: WavHeader): boolean {
  const pcm = header.encoding === FORMAT_PCM && [8, 16, 24, 32].includes(header.bitsPerSample);
  const float = header.encoding === FORMAT_FLOAT && [32, 64].includes(header.bitsPerSample);
  return pcm || float;
}

/**
 * Decodes the first `maxSeconds` of a PCM or IEEE-float WAV file.
 *
 * @param bytes The whole file.
 * @param options `maxSeconds` (default 30): decode at most this much audio.
 * @returns Planar float channels, the file's rate, its full duration and whether it was cut.
 * @throws {ProblemError} 422 for malformed headers, encodings outside the
 *   fast path (see {@linkcode isFastPathWav}) and files with no whole frame.
 *
 * @example
 * ```ts
 * const { channels, sampleRate } = decodeWav(await Deno.readFile("a.wav"), { maxSeconds: 10 });
 * ```
 */
export function decodeWav(bytes: Uint8Array, options: { maxSeconds?: number } = {}): PcmAudio {
  const maxSeconds = options.maxSeconds ?? 30;
  const header = readWavHeader(bytes);
  if (!isFastPathWav(header)) {
    fail(`unsupported encoding ${header.encoding} with ${header.bitsPerSample}-bit samples`);
  }
  if (header.frames === 0) fail("the data chunk holds no complete sample frame");
  const { channels: count, sampleRate, bitsPerSample, dataOffset } = header;
  const frames = Math.min(header.frames, Math.ceil(maxSeconds * sampleRate));
  const view = new DataView(bytes.buffer, bytes.byteOffset + dataOffset, bytes.byteLength - dataOffset);
  const read = sampleReader(view, header.encoding, bitsPerSample);
  const step = bitsPerSample / 8;
  const channels: Float32Array[] = [];
  for (let c = 0; c < count; c++) {
    const out = new Float32Array(frames);
    for (let f = 0, at = c * step; f < frames; f++, at += count * step) out[f] = read(at);
    channels.push(out);
  }
  return {
    channels,
    sampleRate,
    durationSeconds: header.frames / sampleRate,
    truncated: frames < header.frames,
  };
}

/** A function reading one sample at a byte offset, scaled to [-1, 1). */
function sampleReader(view: DataView, encoding: number, bits: number): (at: number) => number {
  if (encoding === FORMAT_FLOAT) {
    // Non-finite floats would poison every later stage (resampler, log-mel); treat them as silence.
    return bits === 32 ? (at) => finite(view.getFloat32(at, true)) : (at) => finite(view.getFloat64(at, true));
  }
  switch (bits) {
    case 8: // 8-bit WAV is unsigned, centred on 128
      return (at) => (view.getUint8(at) - 128) / 128;
    case 16:
      return (at) => view.getInt16(at, true) / 32768;
    case 24:
      return (at) => (view.getUint8(at) | (view.getUint8(at + 1) << 8) | (view.getInt8(at + 2) << 16)) / 8388608;
    default:
      return (at) => view.getInt32(at, true) / 2147483648;
  }
}

function finite(x: number): number {
  return Number.isFinite(x) ? x : 0;
}
