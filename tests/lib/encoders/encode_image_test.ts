import assert from "node:assert/strict";
import { join } from "node:path";
import { encode } from "../../../lib/encoders/encode.ts";
import { imageInput } from "../../../lib/features/encoder_input.ts";
import type { Session } from "../../../lib/backend/onnx.ts";
import type { EncoderCard } from "../../../lib/encoders/card.ts";
import { decodeImage } from "../../../lib/media/decode_image.ts";
import { CORPUS_DIR, cosine, encoder, maxAbsDiff, readFloats, WEIGHTS_DIR } from "./_encoders.ts";

// The features -> encoder chain the pipeline runs, for one image.
async function embedImage(session: Session, card: EncoderCard, pixels: Uint8Array): Promise<Float32Array> {
  return (await encode(session, card, imageInput(card, pixels))).mean.embedding!;
}
async function imageScores(session: Session, card: EncoderCard, pixels: Uint8Array): Promise<Float32Array> {
  return (await encode(session, card, imageInput(card, pixels), ["scores"])).mean.scores!;
}

// The reference (weights/reference/README.md) feeds pre-resized uint8 pixels through each graph.
const REFERENCES: Array<[string, string]> = [
  ["mobilenet_v2", "mobilenet_v2_1.0_224_quant"],
  ["mobilenet_v1", "mobilenet_v1_1.0_224_quant_embedding_extractor"],
  ["tf2_mobilenet_v2", "tf2_mobilenet_v2_1.0_224_ptq"],
];

Deno.test("embedImage() reproduces the reference embeddings from the reference pixels", async () => {
  const pixels = Deno.readFileSync(join(WEIGHTS_DIR, "reference", "inputs", "parrot_224x224_rgb_uint8.bin"));
  for (const [name, file] of REFERENCES) {
    const { card, session } = await encoder(name);
    const embedding = await embedImage(session, card, pixels);
    const reference = readFloats(join(WEIGHTS_DIR, "reference", `${file}__parrot.bin`));
    assert.equal(embedding.length, card.outputs.embedding.dim, name);
    const diff = maxAbsDiff(embedding, reference);
    assert.ok(diff < 1e-3, `${name}: max abs difference ${diff}`);
  }
});

Deno.test("embedImage() embeds a corpus JPEG into 1280-d with the default mobilenet_v2 card", async () => {
  const { card, session } = await encoder("mobilenet_v2");
  const { pixels } = await decodeImage(await Deno.readFile(join(CORPUS_DIR, "images/gpiosenka/banjo/train_001.jpg")));
  const embedding = await embedImage(session, card, pixels);
  assert.equal(embedding.length, 1280);
  assert.ok(embedding.every(Number.isFinite));
});

Deno.test("imageScores() recognises the parrot fixture as a macaw", async () => {
  const { card, session } = await encoder("mobilenet_v2");
  const { pixels } = await decodeImage(await Deno.readFile(join(WEIGHTS_DIR, "fixtures", "parrot.jpg")));
  const scores = await imageScores(session, card, pixels);
  const labels = Deno.readTextFileSync(join(WEIGHTS_DIR, "imagenet_labels.txt")).trim().split(/\r?\n/);
  assert.equal(scores.length, labels.length);
  assert.equal(labels[scores.indexOf(Math.max(...scores))], "macaw");
});

Deno.test("embedImage() puts photos of the same instrument closer than photos of different ones", async () => {
  const { card, session } = await encoder("mobilenet_v2");
  const files: Record<string, string[]> = {
    banjo: ["images/jray/banjo/0001.jpg", "images/jray/banjo/0002.jpg", "images/jray/banjo/0003.jpg"],
    trumpet: [
      "images/gpiosenka/trumpet/train_001.jpg",
      "images/gpiosenka/trumpet/train_002.jpg",
      "images/gpiosenka/trumpet/train_003.jpg",
    ],
    drums: [
      "images/gpiosenka/drums/train_001.jpg",
      "images/gpiosenka/drums/train_002.jpg",
      "images/gpiosenka/drums/train_003.jpg",
    ],
  };
  const items: Array<{ label: string; embedding: Float32Array }> = [];
  for (const [label, paths] of Object.entries(files)) {
    for (const path of paths) {
      const { pixels } = await decodeImage(await Deno.readFile(join(CORPUS_DIR, path)));
      items.push({ label, embedding: await embedImage(session, card, pixels) });
    }
  }
  const same: number[] = [];
  const different: number[] = [];
  for (let i = 0; i < items.length; i++) {
    for (let j = i + 1; j < items.length; j++) {
      const c = cosine(items[i]!.embedding, items[j]!.embedding);
      (items[i]!.label === items[j]!.label ? same : different).push(c);
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  assert.ok(mean(same) > mean(different) + 0.1, `same ${mean(same)} vs different ${mean(different)}`);
});

Deno.test("embedImage() rejects pixels of the wrong size and non-image cards", async () => {
  const { card, session } = await encoder("mobilenet_v2");
  await assert.rejects(() => embedImage(session, card, new Uint8Array(100 * 100 * 3)), RangeError);
  const audio = await encoder("yamnet");
  await assert.rejects(() => embedImage(audio.session, audio.card, new Uint8Array(224 * 224 * 3)), TypeError);
});
