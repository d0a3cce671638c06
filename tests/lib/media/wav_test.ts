import assert from "node:assert/strict";
import { ProblemError } from "../../../lib/errors.ts";
import { decodeWav, isFastPathWav, readWavHeader } from "../../../lib/media/wav.ts";
import { WaveFile } from "./_references.ts";
import { buildWav, floatBytes, int16Bytes, sine } from "./_audio.ts";

/** Distinct test tone per channel, so channel order mistakes show. */
function tones(channels: number, rate: number, seconds: number): Float32Array[] {
  return Array.from({ length: channels }, (_, c) => sine(220 * (c + 1), rate, seconds, 0.9 / (c + 1)));
}

/** Integer codes wavefile writes for a bit depth, and the scale our reader divides by. */
const INTEGER_DEPTHS: Record<string, { toInt: (x: number) => number; toFloat: (q: number) => number }> = {
  "8": { toInt: (x) => Math.round(x * 127) + 128, toFloat: (q) => (q - 128) / 128 },
  "16": { toInt: (x) => Math.round(x * 32767), toFloat: (q) => q / 32768 },
  "24": { toInt: (x) => Math.round(x * 8388607), toFloat: (q) => q / 8388608 },
  "32": { toInt: (x) => Math.round(x * 2147483647), toFloat: (q) => q / 2147483648 },
};

const WAVEFILE_CASES = [
  { channels: 1, rate: 8000, depth: "8" },
  { channels: 2, rate: 44100, depth: "16" },
  { channels: 1, rate: 22050, depth: "24" },
  { channels: 2, rate: 48000, depth: "32" },
  { channels: 1, rate: 44100, depth: "32f" },
  { channels: 2, rate: 96000, depth: "64" },
  { channels: 6, rate: 48000, depth: "16" },
  { channels: 3, rate: 11025, depth: "24" },
];

for (const { channels, rate, depth } of WAVEFILE_CASES) {
  Deno.test(`decodeWav() reads ${depth}-bit ${channels}-channel ${rate} Hz written by wavefile`, () => {
    const signal = tones(channels, rate, 0.25);
    const integer = INTEGER_DEPTHS[depth];
    const written = integer ? signal.map((ch) => Array.from(ch, integer.toInt)) : signal.map((ch) => Array.from(ch));
    const wav = new WaveFile();
    wav.fromScratch(channels, rate, depth, written);
    const bytes = wav.toBuffer();

    const decoded = decodeWav(bytes);
    assert.deepEqual(decoded.sampleRate, rate);
    assert.deepEqual(decoded.channels.length, channels);
    assert.deepEqual(decoded.truncated, false);
    assert.deepEqual(decoded.durationSeconds, signal[0]!.length / rate);
    for (let c = 0; c < channels; c++) {
      const got = decoded.channels[c]!;
      assert.deepEqual(got.length, signal[0]!.length);
      for (let i = 0; i < got.length; i += 7) {
        const expected = integer ? integer.toFloat(written[c]![i]!) : signal[c]![i]!;
        assert.ok(Math.abs(got[i]! - expected) < 1e-6, `channel ${c} sample ${i}: ${got[i]} != ${expected}`);
      }
    }
  });
}

const SIX = tones(6, 48000, 0.1);
const HAND_BUILT: { name: string; bytes: Uint8Array; channels: Float32Array[]; tolerance: number }[] = [
  {
    name: "6-channel float32 WAVE_FORMAT_EXTENSIBLE",
    bytes: buildWav({ formatTag: 0xfffe, subFormat: 3, channels: 6, rate: 48000, bits: 32, data: floatBytes(SIX, 32) }),
    channels: SIX,
    tolerance: 0,
  },
  {
    name: "6-channel 16-bit PCM WAVE_FORMAT_EXTENSIBLE",
    bytes: buildWav({ formatTag: 0xfffe, subFormat: 1, channels: 6, rate: 48000, bits: 16, data: int16Bytes(SIX) }),
    channels: SIX,
    tolerance: 1 / 32768,
  },
  {
    name: "float64 WAVE_FORMAT_EXTENSIBLE",
    bytes: buildWav({
      formatTag: 0xfffe,
      subFormat: 3,
      channels: 2,
      rate: 48000,
      bits: 64,
      data: floatBytes(SIX.slice(0, 2), 64),
    }),
    channels: SIX.slice(0, 2),
    tolerance: 0,
  },
  {
    name: "RF64 with a ds64 chunk",
    bytes: buildWav({
      container: "RF64",
      formatTag: 1,
      channels: 2,
      rate: 48000,
      bits: 16,
      data: int16Bytes(SIX.slice(0, 2)),
    }),
    channels: SIX.slice(0, 2),
    tolerance: 1 / 32768,
  },
  {
    name: "LIST and odd-sized chunks before fmt",
    bytes: buildWav({
      formatTag: 1,
      channels: 1,
      rate: 48000,
      bits: 16,
      data: int16Bytes([SIX[0]!]),
      before: [{ id: "LIST", body: new Uint8Array(26) }, { id: "junk", body: new Uint8Array(3) }],
    }),
    channels: [SIX[0]!],
    tolerance: 1 / 32768,
  },
  {
    name: "fmt after data",
    bytes: buildWav({ formatTag: 1, channels: 1, rate: 48000, bits: 16, data: int16Bytes([SIX[0]!]), fmtLast: true }),
    channels: [SIX[0]!],
    tolerance: 1 / 32768,
  },
];

for (const { name, bytes, channels, tolerance } of HAND_BUILT) {
  Deno.test(`decodeWav() reads ${name}`, () => {
    const decoded = decodeWav(bytes);
    assert.deepEqual(decoded.channels.length, channels.length);
    for (let c = 0; c < channels.length; c++) {
      assert.deepEqual(decoded.channels[c]!.length, channels[c]!.length);
      for (let i = 0; i < channels[c]!.length; i++) {
        assert.ok(Math.abs(decoded.channels[c]![i]! - channels[c]![i]!) <= tolerance, `channel ${c} sample ${i}`);
      }
    }
  });
}

Deno.test("decodeWav() decodes only maxSeconds and reports the full duration", () => {
  const bytes = buildWav({ formatTag: 1, channels: 1, rate: 8000, bits: 16, data: int16Bytes([sine(440, 8000, 3)]) });
  const decoded = decodeWav(bytes, { maxSeconds: 1 });
  assert.deepEqual(decoded.channels[0]!.length, 8000);
  assert.deepEqual(decoded.durationSeconds, 3);
  assert.deepEqual(decoded.truncated, true);
});

Deno.test("decodeWav() sizes output from the bytes present, not from a lying data size", () => {
  const data = int16Bytes([sine(440, 8000, 1)]);
  for (const declared of [1_000_000_000, 0xffffffff, 0]) {
    const decoded = decodeWav(
      buildWav({ formatTag: 1, channels: 1, rate: 8000, bits: 16, data, declaredDataSize: declared }),
    );
    assert.deepEqual(decoded.channels[0]!.length, 8000, `declared ${declared}`);
    assert.deepEqual(decoded.durationSeconds, 1);
  }
  // A trailing partial frame is ignored.
  const odd = buildWav({ formatTag: 1, channels: 2, rate: 8000, bits: 16, data: new Uint8Array(4 * 100 + 3) });
  assert.deepEqual(decodeWav(odd).channels[0]!.length, 100);
});

Deno.test("decodeWav() turns float NaN and Infinity into silence", () => {
  const data = floatBytes([new Float32Array([0.5, NaN, Infinity, -Infinity, -0.5])], 32);
  const decoded = decodeWav(buildWav({ formatTag: 3, channels: 1, rate: 8000, bits: 32, data }));
  assert.deepEqual(Array.from(decoded.channels[0]!), [0.5, 0, 0, 0, -0.5]);
});

const ONE_SECOND = int16Bytes([sine(440, 8000, 1)]);
const MALFORMED: { name: string; bytes: Uint8Array; detail: RegExp }[] = [
  { name: "a 10-byte file", bytes: new TextEncoder().encode("RIFF\0\0\0\0WA"), detail: /shorter than a RIFF header/ },
  { name: "RIFF without WAVE", bytes: new TextEncoder().encode("RIFF\0\0\0\0AVI LIST"), detail: /signature/ },
  {
    name: "0 channels",
    bytes: buildWav({ formatTag: 1, channels: 0, rate: 8000, bits: 16, data: ONE_SECOND }),
    detail: /0 channels/,
  },
  { name: "0 Hz", bytes: buildWav({ formatTag: 1, channels: 1, rate: 0, bits: 16, data: ONE_SECOND }), detail: /0 Hz/ },
  {
    name: "10 MHz",
    bytes: buildWav({ formatTag: 1, channels: 1, rate: 10_000_000, bits: 16, data: ONE_SECOND }),
    detail: /10000000 Hz/,
  },
  {
    name: "0 bits per sample",
    bytes: buildWav({ formatTag: 1, channels: 1, rate: 8000, bits: 0, data: ONE_SECOND }),
    detail: /0 bits/,
  },
  {
    name: "7 bits per sample with block align 0 (an inconsistent header, not silence)",
    bytes: buildWav({ formatTag: 1, channels: 1, rate: 8000, bits: 7, data: ONE_SECOND }),
    detail: /inconsistent header: block align 0 for 1 channel\(s\) of 7-bit samples/,
  },
  {
    name: "no data chunk",
    bytes: buildWav({ formatTag: 1, channels: 1, rate: 8000, bits: 16, data: ONE_SECOND }).subarray(0, 36),
    detail: /no 'data' chunk/,
  },
  {
    name: "no fmt chunk",
    bytes: buildWav({ formatTag: 1, channels: 1, rate: 8000, bits: 16, data: ONE_SECOND, fmtLast: true }).subarray(
      0,
      1000,
    ),
    detail: /no 'fmt ' chunk/,
  },
  {
    name: "an empty data chunk",
    bytes: buildWav({ formatTag: 1, channels: 2, rate: 8000, bits: 16, data: new Uint8Array(3) }),
    detail: /no complete sample frame/,
  },
  {
    name: "A-law samples (left to ffmpeg)",
    bytes: buildWav({ formatTag: 6, channels: 1, rate: 8000, bits: 8, data: new Uint8Array(800) }),
    detail: /unsupported encoding 6/,
  },
];

for (const { name, bytes, detail } of MALFORMED) {
  Deno.test(`decodeWav() rejects ${name} with a 422`, () => {
    assert.throws(
      () => decodeWav(bytes),
      (e: unknown) => e instanceof ProblemError && e.status === 422 && detail.test(e.message),
    );
  });
}

Deno.test("isFastPathWav() leaves companded and odd-width WAV to ffmpeg", () => {
  const cases: [Parameters<typeof buildWav>[0], boolean][] = [
    [{ formatTag: 1, channels: 1, rate: 48000, bits: 16, data: ONE_SECOND }, true],
    [{ formatTag: 3, channels: 1, rate: 192000, bits: 32, data: ONE_SECOND }, true],
    [{ formatTag: 6, channels: 1, rate: 8000, bits: 8, data: ONE_SECOND }, false],
    [{ formatTag: 7, channels: 1, rate: 8000, bits: 8, data: ONE_SECOND }, false],
    [{ formatTag: 1, channels: 1, rate: 384000, bits: 16, data: ONE_SECOND }, true],
    [{ formatTag: 0x11, channels: 1, rate: 8000, bits: 4, data: ONE_SECOND }, false], // IMA ADPCM
    [{ formatTag: 3, channels: 1, rate: 48000, bits: 16, data: ONE_SECOND }, false],
  ];
  for (const [spec, expected] of cases) {
    assert.deepEqual(
      isFastPathWav(readWavHeader(buildWav(spec))),
      expected,
      JSON.stringify({ ...spec, data: undefined }),
    );
  }
});
