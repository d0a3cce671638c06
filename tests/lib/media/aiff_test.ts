import assert from "node:assert/strict";
import { ProblemError } from "../../../lib/errors.ts";
import { decodeAiff, isFastPathAiff, readAiffHeader } from "../../../lib/media/aiff.ts";
import { decodeAudio } from "../../../lib/media/decode_audio.ts";
import { sniff } from "../../../lib/media/sniff.ts";
import { type AiffSpec, encodeAiff, extended80 } from "../../../scripts/shared/encode_aiff.ts";
import { sine } from "./_audio.ts";

/** Distinct tone per channel, so channel order mistakes show. */
function tones(channels: number, rate: number, seconds: number): Float32Array[] {
  return Array.from({ length: channels }, (_, c) => sine(220 * (c + 1), rate, seconds, 0.9 / (c + 1)));
}

const CASES: { channels: number; rate: number; bits?: number; compression?: AiffSpec["compression"] }[] = [
  { channels: 1, rate: 8000, bits: 8 },
  { channels: 2, rate: 44100, bits: 16 },
  { channels: 1, rate: 22050, bits: 24 },
  { channels: 2, rate: 48000, bits: 32 },
  { channels: 3, rate: 11025, bits: 20 }, // left-justified in 3 bytes
  { channels: 6, rate: 96000, bits: 16 },
  { channels: 2, rate: 44100, bits: 16, compression: "twos" },
  { channels: 2, rate: 44100, bits: 16, compression: "sowt" },
  { channels: 1, rate: 48000, bits: 24, compression: "sowt" },
  { channels: 2, rate: 32000, bits: 32, compression: "sowt" },
  { channels: 1, rate: 16000, bits: 8, compression: "raw " },
  { channels: 2, rate: 44100, compression: "fl32" },
  { channels: 1, rate: 88200, compression: "fl64" },
];

for (const { channels, rate, bits, compression } of CASES) {
  const label = `${compression ?? "AIFF"} ${bits ?? ""}${bits ? "-bit " : ""}${channels} ch ${rate} Hz`;
  Deno.test(`decodeAiff() reads ${label}`, () => {
    const signal = tones(channels, rate, 0.25);
    const bytes = encodeAiff({ channels: signal, sampleRate: rate, bits, compression });
    assert.deepEqual(sniff(bytes), { modality: "audio", format: "aiff" });
    const header = readAiffHeader(bytes);
    assert.equal(header.form, compression ? "AIFC" : "AIFF");
    assert.equal(header.channels, channels);
    assert.equal(header.sampleRate, rate);
    assert.equal(header.frames, signal[0]!.length);
    assert.ok(isFastPathAiff(header));
    const pcm = decodeAiff(bytes);
    assert.equal(pcm.sampleRate, rate);
    assert.equal(pcm.channels.length, channels);
    assert.equal(pcm.truncated, false);
    const tolerance = compression?.startsWith("fl") ? 1e-7 : 1.01 / 2 ** ((bits ?? 16) - 1);
    for (let c = 0; c < channels; c++) {
      let worst = 0;
      for (let i = 0; i < signal[c]!.length; i++) {
        worst = Math.max(worst, Math.abs(pcm.channels[c]![i]! - signal[c]![i]!));
      }
      assert.ok(worst <= tolerance, `channel ${c}: max error ${worst} > ${tolerance}`);
    }
  });
}

Deno.test("extended80() and readAiffHeader() agree on every common sample rate", () => {
  for (const rate of [8000, 11025, 16000, 22050, 32000, 44100, 48000, 88200, 96000, 176400, 192000, 384000]) {
    const bytes = encodeAiff({ channels: [new Float32Array(10)], sampleRate: rate });
    assert.equal(readAiffHeader(bytes).sampleRate, rate);
  }
  // 44100 Hz as every AIFF writer stores it.
  assert.deepEqual(Array.from(extended80(44100)), [0x40, 0x0e, 0xac, 0x44, 0, 0, 0, 0, 0, 0]);
});

Deno.test("decodeAiff() decodes only the first maxSeconds and reports the full duration", () => {
  const bytes = encodeAiff({ channels: [sine(440, 8000, 3)], sampleRate: 8000 });
  const pcm = decodeAiff(bytes, { maxSeconds: 1 });
  assert.equal(pcm.channels[0]!.length, 8000);
  assert.equal(pcm.durationSeconds, 3);
  assert.equal(pcm.truncated, true);
});

Deno.test("decodeAudio() takes AIFF to mono 16 kHz like WAV", async () => {
  const decoded = await decodeAudio(encodeAiff({ channels: tones(2, 44100, 1), sampleRate: 44100, bits: 24 }));
  assert.equal(decoded.sampleRate, 16000);
  assert.equal(decoded.samples.length, 16000);
  assert.equal(decoded.durationSeconds, 1);
});

Deno.test("readAiffHeader() clamps lying sizes to the bytes present", () => {
  const signal = [sine(440, 8000, 0.5)];
  const frames = signal[0]!.length;
  // SSND claiming 2 GiB, COMM claiming 4 billion frames: what is there is decoded, nothing more is allocated.
  const lying = encodeAiff({ channels: signal, sampleRate: 8000, lie: { ssndSize: 0x7fffffff, frames: 0xffffffff } });
  assert.equal(readAiffHeader(lying).frames, frames);
  assert.equal(decodeAiff(lying).channels[0]!.length, frames);
  // COMM frame count smaller than the data: COMM wins.
  assert.equal(readAiffHeader(encodeAiff({ channels: signal, sampleRate: 8000, lie: { frames: 100 } })).frames, 100);
  // COMM frame count 0 (a writer that never patched it): the data decides.
  assert.equal(readAiffHeader(encodeAiff({ channels: signal, sampleRate: 8000, lie: { frames: 0 } })).frames, frames);
});

Deno.test("decodeAiff() rejects impossible headers with a 422 naming the value", () => {
  const signal = [sine(440, 8000, 0.1)];
  const header = (lie: AiffSpec["lie"], rate = 8000) => encodeAiff({ channels: signal, sampleRate: rate, lie });
  const truncatedComm = header({}).slice(0, 30);
  const cases: [string, Uint8Array, RegExp][] = [
    ["0 channels", header({ channels: 0 }), /0 channels/],
    ["-3 channels", header({ channels: -3 }), /-3 channels/],
    ["0 Hz", header({}, 0), /sample rate 0 Hz/],
    ["10 MHz", header({}, 10e6), /sample rate 10000000 Hz/],
    ["COMM of 6 bytes", header({ commSize: 6 }), /'COMM' chunk of 6 bytes/],
    ["COMM cut short", truncatedComm, /'COMM' chunk of 18 bytes is too short/],
    ["no SSND", header({}).slice(0, 12 + 8 + 18), /no 'SSND'/],
    ["header only", new TextEncoder().encode("FORM\0\0\0\x04AIFF"), /no 'COMM'/],
    ["not AIFF", new TextEncoder().encode("FORM\0\0\0\x04ILBMxxxx"), /FORM AIFF\/AIFC signature/],
    ["SSND without a whole frame", header({ frames: 0 }).slice(0, 12 + 8 + 18 + 16 + 1), /no complete sample frame/],
  ];
  for (const [name, bytes, message] of cases) {
    assert.throws(() => decodeAiff(bytes), (error) => {
      assert.ok(error instanceof ProblemError, name);
      assert.equal(error.status, 422, name);
      assert.match(error.message, message, name);
      return true;
    });
  }
});

Deno.test("readAiffHeader() reads a chunk after an odd-sized one with or without its pad byte", () => {
  const base = encodeAiff({ channels: [sine(440, 8000, 0.1)], sampleRate: 8000 });
  const comm = base.subarray(12, 12 + 26);
  const rest = base.subarray(12 + 26);
  const odd = new Uint8Array([...new TextEncoder().encode("COMT"), 0, 0, 0, 3, 1, 2, 3]);
  for (const pad of [[0], []]) {
    const body = new Uint8Array([...base.subarray(0, 12), ...comm, ...odd, ...pad, ...rest]);
    assert.equal(readAiffHeader(body).frames, 800, pad.length ? "padded" : "unpadded");
  }
});
