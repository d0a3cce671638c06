import assert from "node:assert/strict";
import { YAMNET_LOG_MEL } from "../features/_fixtures.ts";
import { join } from "node:path";
import { encode } from "../../../lib/encoders/encode.ts";
import { audioInput } from "../../../lib/features/encoder_input.ts";
import type { Session } from "../../../lib/backend/onnx.ts";
import type { EncoderCard } from "../../../lib/encoders/card.ts";
import { logMel } from "../../../lib/features/log_mel.ts";
import { padWaveform } from "../../../lib/features/pad_waveform.ts";
import { toPatches } from "../../../lib/features/patches.ts";
import { decodeAudio } from "../../../lib/media/decode_audio.ts";
import { audioSetNames, CORPUS_DIR, encoder, maxAbsDiff, readFloats, WEIGHTS_DIR } from "./_encoders.ts";

// The features -> encoder chain the pipeline runs, for one clip.
async function embedAudio(session: Session, card: EncoderCard, samples: Float32Array): Promise<Float32Array> {
  return (await encode(session, card, audioInput(card, samples))).mean.embedding!;
}
async function audioScores(session: Session, card: EncoderCard, samples: Float32Array): Promise<Float32Array> {
  return (await encode(session, card, audioInput(card, samples), ["scores"])).mean.scores!;
}

const VIOLIN = "audio/iowa_pitchfinder/violin/violin__Violin.arco.ff.sulD.G4.stereo.flac";

function fixtureAudio(): Float32Array {
  const bytes = Deno.readFileSync(join(WEIGHTS_DIR, "fixtures", "yamnet_test_audio.bin"));
  return Float32Array.from(new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2), (v) => v / 32768);
}

function rankOf(scores: Float32Array, classes: number[]): number {
  const best = Math.max(...classes.map((c) => scores[c]!));
  return 1 + scores.filter((s) => s > best).length;
}

Deno.test("embedAudio() embeds a corpus violin FLAC into 1024-d with the default yamnet card", async () => {
  const { card, session } = await encoder("yamnet");
  const { samples } = await decodeAudio(await Deno.readFile(join(CORPUS_DIR, VIOLIN)));
  const embedding = await embedAudio(session, card, samples);
  assert.equal(embedding.length, card.outputs.embedding.dim);
  assert.equal(embedding.length, 1024);
  assert.ok(embedding.every((v) => Number.isFinite(v) && v >= 0), "ReLU6 pool outputs are finite and >= 0");
  assert.ok(embedding.some((v) => v > 0));
});

Deno.test("embedAudio() mean-pools per-patch embeddings of the padded clip", async () => {
  const { card, session } = await encoder("yamnet");
  const { samples } = await decodeAudio(await Deno.readFile(join(CORPUS_DIR, VIOLIN)));
  const patches = toPatches(logMel(padWaveform(samples), YAMNET_LOG_MEL));
  assert.ok(patches.count > 1, `${patches.count} patches`);
  const sum = new Float64Array(1024);
  for (let p = 0; p < patches.count; p++) {
    const out = await session.run({
      input: { data: patches.data.slice(p * 6144, (p + 1) * 6144), dims: [1, 96, 64] },
    }, ["embedding"]);
    out.embedding!.data.forEach((v, i) => sum[i] = sum[i]! + v);
  }
  const pooled = await embedAudio(session, card, samples);
  const diff = maxAbsDiff(pooled, sum.map((v) => v / patches.count));
  assert.ok(diff < 1e-5, `max abs difference ${diff}`);
});

Deno.test("audioScores() ranks Violin / Bowed string instrument near the top for a violin clip", async () => {
  const { card, session } = await encoder("yamnet");
  const { samples } = await decodeAudio(await Deno.readFile(join(CORPUS_DIR, VIOLIN)));
  const scores = await audioScores(session, card, samples);
  const names = audioSetNames();
  assert.equal(scores.length, names.length);
  const violin = [names.indexOf("Violin, fiddle"), names.indexOf("Bowed string instrument")];
  assert.ok(violin.every((i) => i >= 0));
  const rank = rankOf(scores, violin);
  assert.ok(rank <= 3, `violin classes ranked ${rank}`);
});

Deno.test("embedAudio() with yamnet_waveform reproduces the reference embedding of the fixture", async () => {
  const { card, session } = await encoder("yamnet_waveform");
  const embedding = await embedAudio(session, card, fixtureAudio());
  const reference = readFloats(join(WEIGHTS_DIR, "reference", "yamnet__yamnet_test_audio.bin"));
  const diff = maxAbsDiff(embedding, reference);
  assert.ok(diff < 1e-4, `max abs difference ${diff}`);
});

Deno.test("audioScores() hears speech in the fixture with both audio encoders", async () => {
  const speech = audioSetNames().indexOf("Speech");
  for (const name of ["yamnet", "yamnet_waveform"]) {
    const { card, session } = await encoder(name);
    const scores = await audioScores(session, card, fixtureAudio());
    assert.equal(rankOf(scores, [speech]), 1, name);
    assert.ok(scores[speech]! > 0.9, `${name}: Speech ${scores[speech]}`);
  }
});

Deno.test("embedAudio() pads short clips to one window and windows long clips alike in both encoders", async () => {
  for (const name of ["yamnet", "yamnet_waveform"]) {
    const { card, session } = await encoder(name);
    const short = await embedAudio(session, card, fixtureAudio().subarray(0, 1600));
    assert.equal(short.length, 1024);
    // 2.5 s -> padded to 15600 + 4 * 7680 samples -> 5 windows / patches.
    const long = new Float32Array(40000).map((_, i) => 0.2 * Math.sin(i * 0.05));
    const embedding = await embedAudio(session, card, long);
    assert.equal(embedding.length, 1024);
  }
});

Deno.test("embedAudio() rejects a card that is not an audio card", async () => {
  const { card, session } = await encoder("yamnet");
  const cases = [
    { ...card, modality: "image" as const },
    { ...card, preprocess: { ...card.preprocess, kind: "spectrogram" } },
    { ...card, preprocess: { ...card.preprocess, sampleRate: 44100 } },
  ];
  for (const bad of cases) {
    await assert.rejects(() => embedAudio(session, bad as typeof card, new Float32Array(16000)));
  }
});
