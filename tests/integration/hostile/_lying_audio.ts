/**
 * Audio files whose headers lie: impossible channel counts and sample
 * rates, sizes far beyond the file, 2^32 frames. WAV is built byte by byte;
 * the other formats are valid files with one header field overwritten, so
 * the rest of the file is real.
 *
 * @module
 */
import { buildWav, int16Bytes } from "../../lib/media/_audio.ts";
import { encodeAiff } from "../../../scripts/shared/encode_aiff.ts";
import { indexOfTag, testSignal } from "./_hostile.ts";

/** A hostile file and the statuses it may get (default: 200 or any 4xx). */
export interface LyingFile {
  name: string;
  body: Uint8Array;
  expect?: number[];
}

const UNDECODABLE = [422];

/** WAV headers that lie, around 0.5 s of real 16-bit samples. */
export function lyingWavs(): LyingFile[] {
  const data = int16Bytes([testSignal(16000, 0.5)]);
  const pcm = { formatTag: 1, channels: 1, rate: 16000, bits: 16, data };
  const rf64Frames = buildWav({ ...pcm, container: "RF64" });
  // ds64 body: riffSize(8) dataSize(8) sampleCount(8); claim 2^32 frames of 2 bytes.
  new DataView(rf64Frames.buffer).setBigUint64(indexOfTag(rf64Frames, "ds64") + 16, 2n ** 33n, true);
  const hugeFmt = buildWav(pcm);
  new DataView(hugeFmt.buffer).setUint32(16, 0xfffffff0, true);
  return [
    { name: "wav data size 10x the file", body: buildWav({ ...pcm, declaredDataSize: data.length * 10 }) },
    { name: "wav data size 0xFFFFFFFE", body: buildWav({ ...pcm, declaredDataSize: 0xfffffffe }) },
    { name: "wav RF64 claiming 2^32 frames", body: rf64Frames },
    { name: "wav zero channels", body: buildWav({ ...pcm, channels: 0 }), expect: UNDECODABLE },
    { name: "wav 65535 channels", body: buildWav({ ...pcm, channels: 65535 }), expect: UNDECODABLE },
    { name: "wav 0 Hz", body: buildWav({ ...pcm, rate: 0 }), expect: UNDECODABLE },
    { name: "wav 10 MHz", body: buildWav({ ...pcm, rate: 10_000_000 }), expect: UNDECODABLE },
    { name: "wav 0 bits per sample", body: buildWav({ ...pcm, bits: 0 }), expect: UNDECODABLE },
    { name: "wav 12 bits per sample", body: buildWav({ ...pcm, bits: 12 }) },
    // 7 bits per sample makes block align 7/8 -> 0: the header contradicts itself (not decoded as silence).
    { name: "wav 7 bits per sample, block align 0", body: buildWav({ ...pcm, bits: 7 }), expect: UNDECODABLE },
    { name: "wav fmt chunk declaring 4 GiB", body: hugeFmt, expect: UNDECODABLE },
    // Encodings outside the fast path go to ffmpeg: its probe must catch the same lies.
    { name: "wav A-law at 10 MHz", body: buildWav({ ...pcm, formatTag: 6, bits: 8, rate: 10_000_000 }) },
    { name: "wav A-law at 0 Hz", body: buildWav({ ...pcm, formatTag: 6, bits: 8, rate: 0 }) },
    { name: "wav µ-law, real bytes", body: buildWav({ ...pcm, formatTag: 7, bits: 8 }) },
    {
      name: "wav EXTENSIBLE with an unknown sub-format",
      body: buildWav({ ...pcm, formatTag: 0xfffe, subFormat: 0x55 }),
    },
  ];
}

function patched(bytes: Uint8Array, edit: (view: DataView, out: Uint8Array) => void): Uint8Array {
  const out = bytes.slice();
  edit(new DataView(out.buffer), out);
  return out;
}

function at(bytes: Uint8Array, tag: string): number {
  const i = indexOfTag(bytes, tag);
  if (i < 0) throw new Error(`no "${tag}" in the file`);
  return i;
}

/** FLAC STREAMINFO lies: 20-bit rate at byte 18, then channels, bits and a 36-bit sample count. */
export function lyingFlacs(flac: Uint8Array): LyingFile[] {
  return [
    { name: "flac 0 Hz", body: patched(flac, (_, b) => b.set([0, 0, b[20]! & 0x0f], 18)) },
    { name: "flac 1048575 Hz", body: patched(flac, (_, b) => b.set([0xff, 0xff, b[20]! | 0xf0], 18)) },
    { name: "flac 8 channels over mono frames", body: patched(flac, (_, b) => (b[20] = b[20]! | 0x0e)) },
    { name: "flac 2^36-1 samples", body: patched(flac, (_, b) => b.set([b[21]! | 0x0f, 0xff, 0xff, 0xff, 0xff], 21)) },
    { name: "flac STREAMINFO declaring 16 MiB", body: patched(flac, (_, b) => b.set([0xff, 0xff, 0xff], 5)) },
  ];
}

/** MP3 lies: an ID3 tag claiming 256 MiB, a LAME/Xing header claiming 2^32 frames. */
export function lyingMp3s(mp3: Uint8Array): LyingFile[] {
  const id3 = new Uint8Array(10 + mp3.length);
  id3.set([0x49, 0x44, 0x33, 4, 0, 0, 0x7f, 0x7f, 0x7f, 0x7f]);
  id3.set(mp3, 10);
  const cases: LyingFile[] = [{ name: "mp3 ID3 tag claiming 256 MiB", body: id3 }];
  const xing = Math.max(indexOfTag(mp3, "Xing"), indexOfTag(mp3, "Info"));
  if (xing >= 0) {
    cases.push({
      name: "mp3 Xing header claiming 2^32-1 frames",
      body: patched(mp3, (v) => v.setUint32(xing + 8, 0xffffffff)),
    });
  }
  return cases;
}

/** Ogg Vorbis identification-header lies: "\x01vorbis", version(4), channels(1), rate(4 LE). */
export function lyingOggs(ogg: Uint8Array): LyingFile[] {
  const id = at(ogg, "vorbis") - 1;
  return [
    { name: "ogg 0 channels", body: patched(ogg, (_, b) => (b[id + 11] = 0)) },
    { name: "ogg 0 Hz", body: patched(ogg, (v) => v.setUint32(id + 12, 0, true)) },
    { name: "ogg 10 MHz", body: patched(ogg, (v) => v.setUint32(id + 12, 10_000_000, true)), expect: UNDECODABLE },
    { name: "ogg rate 2^32-1", body: patched(ogg, (v) => v.setUint32(id + 12, 0xffffffff, true)) },
  ];
}

/** MP4 box lies: mdhd timescale and duration, stsz sample count, mp4a sample rate. */
export function lyingM4as(m4a: Uint8Array): LyingFile[] {
  const mdhd = at(m4a, "mdhd");
  const v1 = m4a[mdhd + 4] === 1; // version 1 has 64-bit times
  const timescale = mdhd + (v1 ? 24 : 16);
  const stsz = at(m4a, "stsz");
  const mp4a = at(m4a, "mp4a");
  return [
    { name: "m4a timescale 0", body: patched(m4a, (v) => v.setUint32(timescale, 0)) },
    { name: "m4a duration 2^32-1", body: patched(m4a, (v) => v.setUint32(timescale + 4, 0xffffffff)) },
    { name: "m4a stsz claiming 2^31-1 samples", body: patched(m4a, (v) => v.setUint32(stsz + 12, 0x7fffffff)) },
    {
      name: "m4a mp4a 0 channels, 0 Hz",
      body: patched(m4a, (v) => (v.setUint16(mp4a + 20, 0), v.setUint32(mp4a + 28, 0))),
    },
  ];
}

/** Matroska element lies: SamplingFrequency (0xB5, 8-byte float) and Channels (0x9F). */
export function lyingWebms(webm: Uint8Array): LyingFile[] {
  const find = (bytes: number[]) => {
    for (let i = 0; i + bytes.length <= webm.length; i++) if (bytes.every((b, k) => webm[i + k] === b)) return i;
    throw new Error(`no element ${bytes.map((b) => b.toString(16)).join(" ")} in the WebM`);
  };
  const rate = find([0xb5, 0x88]) + 2;
  const channels = find([0x9f, 0x81]) + 2;
  return [
    { name: "webm 0 Hz", body: patched(webm, (v) => v.setFloat64(rate, 0)) },
    { name: "webm 10 MHz", body: patched(webm, (v) => v.setFloat64(rate, 1e7)) },
    { name: "webm NaN Hz", body: patched(webm, (v) => v.setFloat64(rate, NaN)) },
    { name: "webm 0 channels", body: patched(webm, (_, b) => (b[channels] = 0)) },
    { name: "webm 255 channels", body: patched(webm, (_, b) => (b[channels] = 255)) },
  ];
}

/** AIFF headers that lie, around 0.5 s of real 16-bit samples. */
export function lyingAiffs(): LyingFile[] {
  const spec = { channels: [testSignal(16000, 0.5)], sampleRate: 16000 };
  const patched = (tag: string, at: number, write: (view: DataView, body: number) => void) => {
    const bytes = encodeAiff(spec);
    write(new DataView(bytes.buffer), indexOfTag(bytes, tag) + 8 + at);
    return bytes;
  };
  return [
    { name: "aiff 0 channels", body: encodeAiff({ ...spec, lie: { channels: 0 } }), expect: UNDECODABLE },
    { name: "aiff -1 channels", body: encodeAiff({ ...spec, lie: { channels: -1 } }), expect: UNDECODABLE },
    { name: "aiff 32767 channels", body: encodeAiff({ ...spec, lie: { channels: 32767 } }), expect: UNDECODABLE },
    { name: "aiff SSND declaring 4 GiB", body: encodeAiff({ ...spec, lie: { ssndSize: 0xfffffff0 } }) },
    { name: "aiff COMM declaring 2^32-1 frames", body: encodeAiff({ ...spec, lie: { frames: 0xffffffff } }) },
    {
      name: "aiff COMM declaring 4 GiB",
      body: encodeAiff({ ...spec, lie: { commSize: 0xfffffff0 } }),
      expect: UNDECODABLE,
    },
    { name: "aiff COMM of 2 bytes", body: encodeAiff({ ...spec, lie: { commSize: 2 } }), expect: UNDECODABLE },
    // 80-bit rate with the largest exponent (about 1e4932) and with exponent 0 (denormal, about 0).
    { name: "aiff rate 1e4932 Hz", body: patched("COMM", 8, (v, at) => v.setUint16(at, 0x7ffe)), expect: UNDECODABLE },
    { name: "aiff rate ~0 Hz", body: patched("COMM", 8, (v, at) => v.setUint16(at, 0)), expect: UNDECODABLE },
    {
      name: "aiff SSND offset 2 GiB",
      body: patched("SSND", 0, (v, at) => v.setUint32(at, 0x7fffffff)),
      expect: UNDECODABLE,
    },
    { name: "aiff 0-bit samples", body: patched("COMM", 6, (v, at) => v.setInt16(at, 0)), expect: UNDECODABLE },
  ];
}
