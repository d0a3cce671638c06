/**
 * Test signals and hand-built WAV files (for the header variants no
 * library writes: float EXTENSIBLE, RF64, lying sizes, odd chunk orders).
 *
 * @module
 */

/** A sine of `seconds` at `rate`, amplitude `amplitude`. */
export function sine(frequency: number, rate: number, seconds: number, amplitude = 0.5): Float32Array {
  const n = Math.round(rate * seconds);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = amplitude * Math.sin(2 * Math.PI * frequency * i / rate);
  return out;
}

/** Root mean square of `x[from..to)`. */
export function rms(x: Float32Array, from = 0, to = x.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += x[i]! * x[i]!;
  return Math.sqrt(sum / Math.max(1, to - from));
}

/**
 * Frequency of the dominant tone, from the mean spacing of upward zero
 * crossings (linear interpolation between samples) over `x[from..to)`.
 */
export function zeroCrossingFrequency(x: Float32Array, rate: number, from = 0, to = x.length): number {
  const crossings: number[] = [];
  for (let i = Math.max(1, from); i < to; i++) {
    const a = x[i - 1]!, b = x[i]!;
    if (a < 0 && b >= 0) crossings.push(i - 1 + a / (a - b));
  }
  if (crossings.length < 2) return 0;
  return (crossings.length - 1) * rate / (crossings.at(-1)! - crossings[0]!);
}

/** Options of {@linkcode buildWav}. */
export interface WavSpec {
  container?: "RIFF" | "RF64";
  /** Format tag in `fmt ` (0xFFFE for EXTENSIBLE). */
  formatTag: number;
  /** Sub-format code for EXTENSIBLE (1 PCM, 3 float). */
  subFormat?: number;
  channels: number;
  rate: number;
  bits: number;
  /** Raw sample bytes for the data chunk. */
  data: Uint8Array;
  /** Value written in the data chunk's size field (default: the real size). */
  declaredDataSize?: number;
  /** Extra chunks before `fmt `. */
  before?: { id: string; body: Uint8Array }[];
  /** Put `fmt ` after `data`. */
  fmtLast?: boolean;
}

function chunk(id: string, body: Uint8Array, declared = body.length): Uint8Array {
  const out = new Uint8Array(8 + body.length + (body.length & 1));
  for (let i = 0; i < 4; i++) out[i] = id.charCodeAt(i);
  new DataView(out.buffer).setUint32(4, declared, true);
  out.set(body, 8);
  return out;
}

/** Builds a WAV file byte by byte from a spec. */
export function buildWav(spec: WavSpec): Uint8Array {
  const extensible = spec.formatTag === 0xfffe;
  const fmt = new Uint8Array(extensible ? 40 : 16);
  const v = new DataView(fmt.buffer);
  v.setUint16(0, spec.formatTag, true);
  v.setUint16(2, spec.channels, true);
  v.setUint32(4, spec.rate, true);
  v.setUint32(8, spec.rate * spec.channels * spec.bits / 8, true);
  v.setUint16(12, spec.channels * spec.bits / 8, true);
  v.setUint16(14, spec.bits, true);
  if (extensible) {
    v.setUint16(16, 22, true);
    v.setUint16(18, spec.bits, true);
    v.setUint32(20, 0, true);
    // KSDATAFORMAT_SUBTYPE_*: code, then 00000000-0010-8000-00AA00389B71
    fmt.set([spec.subFormat ?? 1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71], 24);
  }
  const rf64 = spec.container === "RF64";
  const parts: Uint8Array[] = [];
  if (rf64) {
    const ds64 = new Uint8Array(28);
    const d = new DataView(ds64.buffer);
    d.setBigUint64(8, BigInt(spec.data.length), true);
    parts.push(chunk("ds64", ds64));
  }
  for (const extra of spec.before ?? []) parts.push(chunk(extra.id, extra.body));
  const fmtChunk = chunk("fmt ", fmt);
  const dataChunk = chunk("data", spec.data, rf64 ? 0xffffffff : spec.declaredDataSize ?? spec.data.length);
  if (spec.fmtLast) parts.push(dataChunk, fmtChunk);
  else parts.push(fmtChunk, dataChunk);
  const bodyLength = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(12 + bodyLength);
  const head = rf64 ? "RF64" : "RIFF";
  for (let i = 0; i < 4; i++) out[i] = head.charCodeAt(i);
  new DataView(out.buffer).setUint32(4, rf64 ? 0xffffffff : 4 + bodyLength, true);
  out.set([0x57, 0x41, 0x56, 0x45], 8); // WAVE
  let at = 12;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Interleaves planar float channels as little-endian float32 or float64 bytes. */
export function floatBytes(channels: Float32Array[], bits: 32 | 64): Uint8Array {
  const frames = channels[0]!.length;
  const out = new Uint8Array(frames * channels.length * bits / 8);
  const v = new DataView(out.buffer);
  let at = 0;
  for (let f = 0; f < frames; f++) {
    for (const ch of channels) {
      if (bits === 32) v.setFloat32(at, ch[f]!, true);
      else v.setFloat64(at, ch[f]!, true);
      at += bits / 8;
    }
  }
  return out;
}

/** Interleaves planar float channels as little-endian 16-bit PCM bytes. */
export function int16Bytes(channels: Float32Array[]): Uint8Array {
  const frames = channels[0]!.length;
  const out = new Uint8Array(frames * channels.length * 2);
  const v = new DataView(out.buffer);
  let at = 0;
  for (let f = 0; f < frames; f++) {
    for (const ch of channels) {
      v.setInt16(at, Math.max(-32768, Math.min(32767, Math.round(ch[f]! * 32768))), true);
      at += 2;
    }
  }
  return out;
}
