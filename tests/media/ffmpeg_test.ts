import assert from "node:assert/strict";
import { ProblemError } from "../../lib/errors.ts";
import { decodeWithFfmpeg, type EncodableFormat, encodeAudio } from "../../lib/media/ffmpeg.ts";
import { rms, sine, zeroCrossingFrequency } from "./_audio.ts";
import { CORPUS_FLAC, CORPUS_JPEG, corpusFile } from "./_corpus.ts";

const is422 = (pattern: RegExp) => (e: unknown) =>
  e instanceof ProblemError && e.status === 422 && pattern.test(e.message);

const TONE = sine(1000, 44100, 2, 0.5);
const FORMATS: EncodableFormat[] = ["mp3", "ogg", "opus", "flac", "m4a", "mp4", "aac", "webm"];

for (const format of FORMATS) {
  Deno.test(`decodeWithFfmpeg() decodes ${format} made by encodeAudio() to a 16 kHz tone`, async () => {
    const bytes = await encodeAudio(TONE, 44100, format);
    const { samples, sampleRate, durationSeconds, truncated } = await decodeWithFfmpeg(bytes);
    assert.equal(sampleRate, 16000);
    assert.equal(truncated, false);
    // Codecs add priming/padding of up to a few frames.
    assert.ok(Math.abs(samples.length - 32000) < 1600, `${samples.length} samples`);
    assert.ok(Math.abs(durationSeconds - 2) < 0.1, `duration ${durationSeconds}`);
    const middle = [4000, 28000] as const;
    const f = zeroCrossingFrequency(samples, 16000, ...middle);
    assert.ok(Math.abs(f - 1000) < 1, `measured ${f} Hz`);
    const level = rms(samples, ...middle);
    assert.ok(Math.abs(level - 0.5 / Math.SQRT2) < 0.03, `rms ${level}`);
  });
}

Deno.test("decodeWithFfmpeg() decodes a corpus FLAC and cuts it at maxSeconds", async () => {
  const flac = await corpusFile(CORPUS_FLAC);
  const whole = await decodeWithFfmpeg(flac);
  assert.equal(whole.truncated, false);
  assert.equal(whole.samples.length, Math.round(whole.durationSeconds * 16000));
  const cut = await decodeWithFfmpeg(flac, { maxSeconds: 1.5 });
  assert.equal(cut.truncated, true);
  assert.equal(cut.samples.length, 24000);
  assert.equal(cut.durationSeconds, whole.durationSeconds);
  // Same decoder, same start: the cut is a prefix of the whole.
  for (let i = 0; i < 24000; i += 101) assert.ok(Math.abs(cut.samples[i]! - whole.samples[i]!) < 1e-6);
});

Deno.test("decodeWithFfmpeg() rejects undecodable input with a 422 and recovers", async () => {
  const flac = await encodeAudio(TONE, 44100, "flac");
  const noise = new Uint8Array(5000).map((_, i) => (i * 2654435761) >>> 24);
  const cases: [string, Uint8Array, RegExp][] = [
    ["random bytes", noise, /Invalid data/],
    ["a FLAC cut inside its header", flac.subarray(0, 60), /Cannot decode audio/],
    ["an image (no audio stream)", await corpusFile(CORPUS_JPEG), /does not contain any stream/],
    ["empty input", new Uint8Array(0), /Cannot decode audio/],
  ];
  for (const [name, bytes, detail] of cases) {
    await assert.rejects(decodeWithFfmpeg(bytes), is422(detail), name);
  }
  // After failures the next valid input still decodes (the failed core was replaced).
  const { samples } = await decodeWithFfmpeg(flac);
  assert.ok(Math.abs(samples.length - 32000) < 10);
});

Deno.test("decodeWithFfmpeg() gives up after timeoutMs with a 422", async () => {
  const long = await encodeAudio(sine(440, 44100, 20), 44100, "flac");
  await assert.rejects(decodeWithFfmpeg(long, { timeoutMs: 1 }), is422(/longer than 1 ms/));
});
