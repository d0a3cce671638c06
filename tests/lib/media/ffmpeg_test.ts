import assert from "node:assert/strict";
import { ProblemError } from "../../../lib/errors.ts";
import {
  decodeWithFfmpeg,
  type EncodableFormat,
  encodeAudio,
  IDLE_HEAP_BYTES,
  releaseGrownCore,
} from "../../../lib/media/ffmpeg.ts";
import { buildWav, int16Bytes, rms, sine, zeroCrossingFrequency } from "./_audio.ts";
import { CORPUS_FLAC, CORPUS_JPEG, corpusFile } from "./_corpus.ts";

const is422 = (pattern: RegExp) => (e: unknown) =>
  e instanceof ProblemError && e.status === 422 && pattern.test(e.message);

const TONE = sine(1000, 44100, 2, 0.5);
const FORMATS: EncodableFormat[] = ["mp3", "ogg", "opus", "flac", "m4a", "mp4", "aac", "webm"];

for (const format of FORMATS) {
  Deno.test(`decodeWithFfmpeg() decodes ${format} made by encodeAudio() at its own rate`, async () => {
    const bytes = await encodeAudio(TONE, 44100, format);
    const { channels, sampleRate, durationSeconds, truncated } = await decodeWithFfmpeg(bytes);
    // Opus always decodes at 48 kHz; the others keep the 44.1 kHz they were made at.
    assert.equal(sampleRate, format === "opus" || format === "webm" ? 48000 : 44100);
    assert.equal(channels.length, 1);
    assert.equal(truncated, false);
    const [samples] = channels as [Float32Array];
    // Codecs add priming/padding of up to a few frames.
    assert.ok(Math.abs(samples.length / sampleRate - 2) < 0.1, `${samples.length} samples`);
    assert.ok(Math.abs(durationSeconds - 2) < 0.1, `duration ${durationSeconds}`);
    const middle = [sampleRate / 4, sampleRate * 7 / 4] as const;
    const f = zeroCrossingFrequency(samples, sampleRate, ...middle);
    assert.ok(Math.abs(f - 1000) < 1, `measured ${f} Hz`);
    const level = rms(samples, ...middle);
    assert.ok(Math.abs(level - 0.5 / Math.SQRT2) < 0.03, `rms ${level}`);
  });
}

Deno.test("decodeWithFfmpeg() keeps every channel of a multichannel file", async () => {
  // A 6-channel FLAC made from a hand-built WAV: channel c holds a tone of 200 * (c + 1) Hz.
  const tones = Array.from({ length: 6 }, (_, c) => sine(200 * (c + 1), 48000, 1, 0.4));
  const wav = buildWav({
    formatTag: 0xfffe,
    subFormat: 1,
    channels: 6,
    rate: 48000,
    bits: 16,
    data: int16Bytes(tones),
  });
  const fromWav = await decodeWithFfmpeg(wav);
  assert.equal(fromWav.channels.length, 6);
  assert.equal(fromWav.sampleRate, 48000);
  fromWav.channels.forEach((ch, c) => {
    const f = zeroCrossingFrequency(ch, 48000, 4800, 43200);
    assert.ok(Math.abs(f - 200 * (c + 1)) < 0.5, `channel ${c}: ${f} Hz`);
  });
});

Deno.test("decodeWithFfmpeg() decodes a corpus FLAC and cuts it at maxSeconds", async () => {
  const flac = await corpusFile(CORPUS_FLAC);
  const whole = await decodeWithFfmpeg(flac);
  assert.equal(whole.truncated, false);
  const [all] = whole.channels as [Float32Array];
  assert.equal(all.length, Math.round(whole.durationSeconds * whole.sampleRate));
  const cut = await decodeWithFfmpeg(flac, { maxSeconds: 1.5 });
  assert.equal(cut.truncated, true);
  const [start] = cut.channels as [Float32Array];
  assert.equal(start.length, 1.5 * cut.sampleRate);
  assert.equal(cut.durationSeconds, whole.durationSeconds);
  // Same decoder, same start: the cut is a prefix of the whole.
  for (let i = 0; i < start.length; i += 101) assert.equal(start[i], all[i]);
});

Deno.test("decodeWithFfmpeg() decodes the same way on the cores that replace a worn one", async () => {
  const flac = await corpusFile(CORPUS_FLAC);
  const [first] = (await decodeWithFfmpeg(flac, { maxSeconds: 2 })).channels as [Float32Array];
  // Two runs (probe, decode) per call: 250 calls cross two core replacements (every 200 runs).
  for (let i = 0; i < 250; i++) {
    const [again] = (await decodeWithFfmpeg(flac, { maxSeconds: 2 })).channels as [Float32Array];
    assert.deepEqual(again, first, `call ${i}`);
  }
});

Deno.test("releaseGrownCore() drops only a core over the bound, and the next decode loads a fresh one", async () => {
  const bytes = await encodeAudio(TONE, 44100, "flac");
  const first = await decodeWithFfmpeg(bytes);
  assert.equal(releaseGrownCore(), false, `a FLAC leaves the heap at its initial size, under ${IDLE_HEAP_BYTES}`);
  assert.equal(releaseGrownCore(0), true, "every core is over 0 bytes");
  assert.equal(releaseGrownCore(0), false, "no core is left to drop");
  const again = await decodeWithFfmpeg(bytes);
  assert.deepEqual(again.channels, first.channels);
});

Deno.test("decodeWithFfmpeg() rejects undecodable input with a 422 and recovers", async () => {
  const flac = await encodeAudio(TONE, 44100, "flac");
  const noise = new Uint8Array(5000).map((_, i) => (i * 2654435761) >>> 24);
  const cases: [string, Uint8Array, RegExp][] = [
    ["random bytes", noise, /Invalid data/],
    ["a FLAC cut inside its header", flac.subarray(0, 60), /Cannot decode audio/],
    // ffmpeg's last lines are its summary ("video:0kB audio:0kB ... muxing overhead"): never the reason given.
    ["a FLAC cut in its first frame", flac.subarray(0, 2000), /^Cannot decode audio: the data is corrupt or cut short/],
    ["an image (no audio stream)", await corpusFile(CORPUS_JPEG), /no audio stream/],
    ["empty input", new Uint8Array(0), /Cannot decode audio/],
  ];
  for (const [name, bytes, detail] of cases) {
    await assert.rejects(decodeWithFfmpeg(bytes), is422(detail), name);
  }
  // After failures the next valid input still decodes (the failed core was replaced).
  const { channels } = await decodeWithFfmpeg(flac);
  assert.equal(channels[0]!.length, 88200);
});

Deno.test("decodeWithFfmpeg() gives up after timeoutMs with a 422", async () => {
  const long = await encodeAudio(sine(440, 44100, 20), 44100, "flac");
  await assert.rejects(decodeWithFfmpeg(long, { timeoutMs: 1 }), is422(/longer than 1 ms/));
});
