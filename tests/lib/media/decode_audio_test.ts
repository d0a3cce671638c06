import assert from "node:assert/strict";
import { ProblemError } from "../../../lib/errors.ts";
import { decodeAudio } from "../../../lib/media/decode_audio.ts";
import { encodeAudio } from "../../../lib/media/ffmpeg.ts";
import { WaveFile } from "./_references.ts";
import { buildWav, floatBytes, int16Bytes, rms, sine, zeroCrossingFrequency } from "./_audio.ts";
import { CORPUS_FLAC, CORPUS_JPEG, corpusFile } from "./_corpus.ts";

const problem = (status: number, pattern: RegExp) => (e: unknown) =>
  e instanceof ProblemError && e.status === status && pattern.test(e.message);

for (const rate of [8000, 22050, 44100, 48000]) {
  Deno.test(`decodeAudio() turns a stereo ${rate} Hz WAV into mono 16 kHz`, async () => {
    const tone = sine(1000, rate, 1, 0.5);
    const bytes = buildWav({
      formatTag: 1,
      channels: 2,
      rate,
      bits: 16,
      data: int16Bytes([tone, new Float32Array(tone.length)]),
    });
    const decoded = await decodeAudio(bytes);
    assert.equal(decoded.sampleRate, 16000);
    assert.equal(decoded.samples.length, 16000);
    assert.equal(decoded.durationSeconds, 1);
    assert.equal(decoded.truncated, false);
    // One silent channel halves the level.
    assert.ok(Math.abs(rms(decoded.samples, 800, 15200) - 0.25 / Math.SQRT2) < 0.003);
    assert.ok(Math.abs(zeroCrossingFrequency(decoded.samples, 16000, 800, 15200) - 1000) < 0.5);
  });
}

Deno.test("decodeAudio() cancels opposite-phase channels when downmixing", async () => {
  const tone = sine(440, 16000, 0.5);
  const bytes = buildWav({
    formatTag: 3,
    channels: 2,
    rate: 16000,
    bits: 32,
    data: floatBytes([tone, tone.map((x) => -x)], 32),
  });
  assert.equal(rms((await decodeAudio(bytes)).samples), 0);
});

Deno.test("decodeAudio() cuts long input at maxSeconds and reports the full duration", async () => {
  const bytes = buildWav({
    formatTag: 1,
    channels: 1,
    rate: 44100,
    bits: 16,
    data: int16Bytes([sine(440, 44100, 40)]),
  });
  const byDefault = await decodeAudio(bytes);
  assert.equal(byDefault.samples.length, 30 * 16000);
  assert.equal(byDefault.durationSeconds, 40);
  assert.equal(byDefault.truncated, true);
  const short = await decodeAudio(bytes, { maxSeconds: 2.5 });
  assert.equal(short.samples.length, 40000);
  assert.equal(short.truncated, true);
});

Deno.test("decodeAudio() clamps float samples to [-1, 1]", async () => {
  const loud = new Float32Array(1600).fill(3);
  const bytes = buildWav({ formatTag: 3, channels: 1, rate: 16000, bits: 32, data: floatBytes([loud], 32) });
  const { samples } = await decodeAudio(bytes);
  assert.ok(samples.every((x) => x <= 1 && x >= -1));
  assert.equal(samples[800], 1);
});

Deno.test("decodeAudio() sends WAV encodings outside the fast path to ffmpeg", async () => {
  const tone = sine(1000, 8000, 1, 0.5);
  const pcm = Array.from(tone, (x) => Math.round(x * 32767));
  const alaw = new WaveFile();
  alaw.fromScratch(1, 8000, "16", pcm);
  alaw.toALaw();
  const mulaw = new WaveFile();
  mulaw.fromScratch(1, 8000, "16", pcm);
  mulaw.toMuLaw();
  for (const [name, bytes] of [["A-law", alaw.toBuffer()], ["µ-law", mulaw.toBuffer()]] as const) {
    const { samples, durationSeconds } = await decodeAudio(bytes);
    assert.equal(samples.length, 16000, name);
    assert.equal(durationSeconds, 1, name);
    assert.ok(Math.abs(zeroCrossingFrequency(samples, 16000, 800, 15200) - 1000) < 0.1, name);
    assert.ok(Math.abs(rms(samples, 800, 15200) - 0.5 / Math.SQRT2) < 0.01, name);
  }
});

Deno.test("decodeAudio() gives the same samples for a WAV and a FLAC of the same audio", async () => {
  // The fast path and ffmpeg share downmix() and resample(): lossless inputs must agree.
  const left = sine(440, 44100, 2, 0.5), right = sine(3000, 44100, 2, 0.3);
  const wav = buildWav({ formatTag: 1, channels: 2, rate: 44100, bits: 16, data: int16Bytes([left, right]) });
  const fromWav = await decodeAudio(wav);
  const stereoFlac = await encodeAudio([left, right], 44100, "flac");
  const fromFlac = await decodeAudio(stereoFlac);
  assert.equal(fromFlac.samples.length, fromWav.samples.length);
  let maxDiff = 0;
  for (let i = 0; i < fromWav.samples.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs(fromWav.samples[i]! - fromFlac.samples[i]!));
  }
  // Up to one 16-bit step apart: ffmpeg and int16Bytes() may round a float differently.
  assert.ok(maxDiff < 2 / 32768, `max difference ${maxDiff}`);
});

Deno.test("decodeAudio() decodes MP3 and the corpus FLAC through ffmpeg", async () => {
  const mp3 = await encodeAudio(sine(1000, 44100, 1, 0.5), 44100, "mp3");
  const fromMp3 = await decodeAudio(mp3);
  assert.ok(Math.abs(zeroCrossingFrequency(fromMp3.samples, 16000, 800, 15200) - 1000) < 1);
  const fromFlac = await decodeAudio(await corpusFile(CORPUS_FLAC), { maxSeconds: 2 });
  assert.equal(fromFlac.samples.length, 32000);
  assert.ok(rms(fromFlac.samples) > 0.001, "the cello is audible");
});

Deno.test("decodeAudio() rejects non-audio with a 415 and broken audio with a 422", async () => {
  const cases: [string, Uint8Array, number, RegExp, Parameters<typeof decodeAudio>[1]?][] = [
    ["an image", await corpusFile(CORPUS_JPEG), 415, /got a jpeg image/],
    ["text", new TextEncoder().encode("not audio at all"), 415, /first bytes 6e 6f 74/],
    ["nothing", new Uint8Array(0), 415, /empty body/],
    [
      "a WAV with 0 channels",
      buildWav({ formatTag: 1, channels: 0, rate: 8000, bits: 16, data: new Uint8Array(8) }),
      422,
      /0 channels/,
    ],
    ["MP3 bytes declared as WAV", await encodeAudio(sine(440, 8000, 0.2), 8000, "mp3"), 422, /WAVE signature/, {
      format: "wav",
    }],
    ["an Ogg page of garbage", new TextEncoder().encode("OggS" + "\u0001".repeat(200)), 422, /Cannot decode audio/],
  ];
  for (const [name, bytes, status, detail, options] of cases) {
    await assert.rejects(decodeAudio(bytes, options), problem(status, detail), name);
  }
  await assert.rejects(decodeAudio(new Uint8Array(8), { maxSeconds: 0 }), RangeError);
});
