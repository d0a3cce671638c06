import assert from "node:assert/strict";
import { join } from "node:path";
import { type Config, loadConfig } from "../../../../lib/config.ts";
import { ensureEncoders } from "../../../../lib/weights/ensure_encoders.ts";
import { ensureFused } from "../../../../lib/weights/ensure_fused.ts";
import { fuseTranslator } from "../../../../lib/encoders/fuse/fuse_translator.ts";
import { decodeModel } from "../../../../lib/encoders/fuse/onnx_model.ts";
import { readModelManifest } from "../../../../lib/joint/model_manifest.ts";
import { readArtifact } from "../../../../lib/joint/artifact.ts";
import { Pipeline } from "../../../../lib/pipeline.ts";
import { decodeMedia, type Media } from "../../../../lib/media/decode_media.ts";
import { CORPUS_DIR, maxAbsDiff } from "../_encoders.ts";

const config = loadConfig();

function firstFile(dir: string): string {
  return join(dir, [...Deno.readDirSync(dir)].map((e) => e.name).sort()[0]!);
}

/** The same pipeline with and without fusion; the fused graphs go to a fresh cache folder. */
async function pipelines(cacheDir: string): Promise<{ fused: Pipeline; apart: Pipeline }> {
  const names = [config.audioEncoder, config.imageEncoder];
  const found = await ensureEncoders({ names, log: () => {} });
  const files = { audio: found[config.audioEncoder]!, image: found[config.imageEncoder]! };
  const base: Config = { ...config, threadsPerWorker: 1, cacheDir };
  return {
    fused: await Pipeline.create({ ...base, fuse: true }, files),
    apart: await Pipeline.create({ ...base, fuse: false }, files),
  };
}

/** Real inputs: a corpus photo, and a corpus recording at 1 s (one chunk) and looped to 10 s (two chunks of 10). */
async function inputs(): Promise<[string, Uint8Array | Media][]> {
  const photo = await Deno.readFile(firstFile(join(CORPUS_DIR, "images/gpiosenka/violin")));
  const sound = await decodeMedia(await Deno.readFile(firstFile(join(CORPUS_DIR, "audio/iowa_pitchfinder/violin"))));
  assert.equal(sound.modality, "audio");
  const clip = (seconds: number): Media => {
    const n = seconds * sound.audio.sampleRate;
    const samples = Float32Array.from({ length: n }, (_, i) => sound.audio.samples[i % sound.audio.samples.length]!);
    return { ...sound, audio: { ...sound.audio, samples, durationSeconds: seconds, truncated: false } };
  };
  return [["corpus JPEG", photo], ["recording 1 s", clip(1)], ["recording 10 s", clip(10)]];
}

Deno.test("fused encoder + translator answers as the two sessions apart (classify, embed joint and encoder)", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "amodal-fuse-" });
  try {
    const { fused, apart } = await pipelines(cacheDir);
    for (const [name, input] of await inputs()) {
      const a = await apart.classify(input), f = await fused.classify(input);
      assert.equal(f.label, a.label, name);
      assert.deepEqual(f.scores.map((s) => s.label), a.scores.map((s) => s.label), name);
      assert.ok(maxAbsDiff(f.scores.map((s) => s.score), a.scores.map((s) => s.score)) < 1e-4, name);
      assert.ok(Math.abs((f.instrument?.score ?? 0) - (a.instrument?.score ?? 0)) <= 1e-3, name);
      assert.ok("translator" in a.timings && !("translator" in f.timings), `${name}: the translator ran in-graph`);
      for (const space of ["joint", "encoder"] as const) {
        const ea = await apart.embed(input, space), ef = await fused.embed(input, space);
        assert.equal(ef.dim, ea.dim, `${name} ${space}`);
        const diff = maxAbsDiff(ef.embedding, ea.embedding);
        assert.ok(diff < 1e-5, `${name} ${space}: max abs diff ${diff}`);
      }
    }
    assert.deepEqual(fused.loaded().sort(), apart.loaded().sort(), "the same parts are reported loaded");
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("ensureFused() caches by the translator's hash: reused when the same, rebuilt for a new one", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "amodal-fuse-" });
  try {
    const manifest = await readModelManifest(config.modelsDir);
    const entry = manifest.artifacts.translator_image;
    const translator = await readArtifact(config.modelsDir, entry);
    const encoderPath = (await ensureEncoders({ names: [config.imageEncoder], log: () => {} }))[config.imageEncoder]!
      .onnxPath;
    const sources = { cacheDir, encoderPath, translator, translatorSha256: entry.sha256, io: entry };
    const first = await ensureFused(sources);
    assert.equal(first.built, true);
    assert.equal(typeof first.model, "string");
    assert.deepEqual(await ensureFused(sources), { model: first.model, built: false });
    const retrained = await ensureFused({ ...sources, translatorSha256: "f".repeat(64) });
    assert.equal(retrained.built, true);
    assert.notEqual(retrained.model, first.model);
  } finally {
    await Deno.remove(cacheDir, { recursive: true });
  }
});

Deno.test("fuseTranslator() keeps YAMNet's scores and refuses graphs it does not know", async () => {
  const manifest = await readModelManifest(config.modelsDir);
  const entry = manifest.artifacts.translator_audio;
  const translator = await readArtifact(config.modelsDir, entry);
  const found = await ensureEncoders({ names: [config.audioEncoder, config.imageEncoder], log: () => {} });
  const encoder = await Deno.readFile(found[config.audioEncoder]!.onnxPath);
  const fused = decodeModel(fuseTranslator(encoder, translator, entry));
  assert.deepEqual(
    fused.graph.output.map((o) => o.name),
    ["embedding_sum", "embedding_mean", "joint", "scores_sum", "scores_max"],
  );
  assert.deepEqual(fused.graph.input.map((i) => i.name), ["input", "embedding_sum_before", "items_total"]);
  // The image head reads 1280 values, YAMNet gives 1024.
  assert.throws(() => fuseTranslator(encoder, translator, { ...entry, dimIn: 1280 }), RangeError);
  assert.throws(() => fuseTranslator(encoder, new Uint8Array([1, 2, 3]), entry), SyntaxError);
});
