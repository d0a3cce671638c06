/**
 * A small AIFF / AIFF-C writer for tests and fuzz seeds: the service only
 * reads AIFF, and no npm package writes it, so tests build their files here
 * (bit depths, channel counts, byte orders and float variants the peer
 * fixtures do not cover) and the hostile suites bend its chunks.
 *
 * @module
 */

/** What {@linkcode encodeAiff} writes. */
export interface AiffSpec {
  /** One array per channel, samples in [-1, 1]. */
  channels: Float32Array[];
  /** Frames per second (written as an 80-bit extended float). */
  sampleRate: number;
  /** Bits per sample, 1..32 for integer PCM (rounded up to whole bytes), 32 or 64 for float. @default {16} */
  bits?: number;
  /**
   * AIFF-C compression type; absent: plain AIFF (big-endian PCM). `twos`,
   * `sowt` (little-endian), `raw ` (8-bit offset binary), `fl32`, `fl64`.
   */
  compression?: "NONE" | "twos" | "sowt" | "raw " | "fl32" | "fl64";
  /** Overrides of the header fields, for hostile files. */
  lie?: { channels?: number; frames?: number; commSize?: number; ssndSize?: number };
}

/**
 * The 80-bit IEEE 754 extended representation of a positive number (AIFF's
 * sample rate field).
 *
 * @param value A finite positive number (or 0).
 * @returns 10 bytes, big-endian.
 */
export function extended80(value: number): Uint8Array {
  const out = new Uint8Array(10);
  if (value === 0) return out;
  const exponent = Math.floor(Math.log2(value));
  const mantissa = BigInt(Math.round(value * 2 ** (63 - exponent))); // integer bit at bit 63
  const view = new DataView(out.buffer);
  view.setUint16(0, exponent + 16383);
  view.setBigUint64(2, mantissa);
  return out;
}

/**
 * Writes an AIFF (or AIFF-C, when `compression` is given) file.
 *
 * @param spec Samples, rate, sample format and optional header lies.
 * @returns The file bytes: `FORM` with `FVER` (AIFF-C only), `COMM` and `SSND`.
 *
 * @example
 * ```ts
 * const bytes = encodeAiff({ channels: [new Float32Array(8000)], sampleRate: 8000, bits: 24 });
 * ```
 */
export function encodeAiff(spec: AiffSpec): Uint8Array {
  const { channels, sampleRate, compression } = spec;
  const aifc = compression !== undefined;
  const float = compression === "fl32" || compression === "fl64";
  const bits = compression === "fl64" ? 64 : compression === "fl32" ? 32 : spec.bits ?? 16;
  const step = Math.ceil(bits / 8);
  const frames = channels[0]?.length ?? 0;
  const dataBytes = frames * channels.length * step;
  const commSize = aifc ? 24 : 18; // AIFF-C adds the type and an empty Pascal string (2 bytes)
  const total = 12 + (aifc ? 12 : 0) + 8 + commSize + 8 + 8 + dataBytes + (dataBytes & 1);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  const ascii = (at: number, text: string) => out.set(new TextEncoder().encode(text), at);
  ascii(0, "FORM");
  view.setUint32(4, total - 8);
  ascii(8, aifc ? "AIFC" : "AIFF");
  let at = 12;
  if (aifc) {
    ascii(at, "FVER");
    view.setUint32(at + 4, 4);
    view.setUint32(at + 8, 0xa2805140); // AIFF-C version 1
    at += 12;
  }
  ascii(at, "COMM");
  view.setUint32(at + 4, spec.lie?.commSize ?? commSize);
  view.setInt16(at + 8, spec.lie?.channels ?? channels.length);
  view.setUint32(at + 10, spec.lie?.frames ?? frames);
  view.setInt16(at + 14, bits);
  out.set(extended80(sampleRate), at + 16);
  if (aifc) ascii(at + 26, compression);
  at += 8 + commSize;
  ascii(at, "SSND");
  view.setUint32(at + 4, spec.lie?.ssndSize ?? 8 + dataBytes);
  at += 16; // offset and block size stay 0
  const little = compression === "sowt";
  const scale = 2 ** (8 * step - 1);
  for (let f = 0; f < frames; f++) {
    for (const channel of channels) {
      const x = Math.max(-1, Math.min(1, channel[f]!));
      if (float) {
        if (bits === 32) view.setFloat32(at, x);
        else view.setFloat64(at, x);
      } else {
        // Integer samples are left-justified in their bytes: quantise to `bits`, then shift up.
        const q = Math.max(-(2 ** (bits - 1)), Math.min(2 ** (bits - 1) - 1, Math.round(x * 2 ** (bits - 1))));
        const v = q * 2 ** (8 * step - bits);
        if (compression === "raw ") view.setUint8(at, v + 128);
        else if (step === 1) view.setInt8(at, v);
        else if (step === 2) view.setInt16(at, v, little);
        else if (step === 4) view.setInt32(at, v, little);
        else {
          const u = v < 0 ? v + scale * 2 : v;
          const bytes = [(u >> 16) & 0xff, (u >> 8) & 0xff, u & 0xff];
          out.set(little ? bytes.reverse() : bytes, at);
        }
      }
      at += step;
    }
  }
  return out;
}
