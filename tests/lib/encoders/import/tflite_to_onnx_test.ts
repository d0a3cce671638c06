/**
 * Parity of the imported encoders with `../shared/weights/reference`.
 *
 * Measured with onnxruntime-web 1.30.0 (WASM, 2 threads): the four graphs
 * yamnet, mobilenet_v2, mobilenet_v1 and tf2_mobilenet_v2 reproduce the
 * reference embeddings bit for bit (max abs error 0, cosine 1); yamnet_waveform
 * differs by at most 3.3e-6 (cosine 1 - 1e-12), from float summation order in
 * its DFT-as-matmul front end. Asserted: cosine > 0.999 and max abs error
 * below each model's tolerance (table below), plus the reference README's top-1 class.
 *
 * @module
 */
import assert from "node:assert/strict";
import { createSession } from "../../../../lib/backend/onnx.ts";
import { findTensor, tfliteToOnnx } from "../../../../lib/encoders/import/tflite_to_onnx.ts";
import { readTflite } from "../../../../lib/encoders/import/tflite_model.ts";
import { loadEncoderCatalog } from "../../../../lib/weights/encoder_cards.ts";
import type { ImagePreprocess } from "../../../../lib/encoders/card.ts";
import { argmax, compare, floats, referenceInput, weightsFile } from "./_reference.ts";
import { tinyTflite } from "./_tiny_tflite.ts";

const IMAGES = ["bird", "cat", "parrot", "sunflower"];

/** Per model: reference inputs, expected top-1 label per input, max-abs tolerance. */
const CASES: Record<string, { inputs: string[]; top1: Record<string, string>; maxAbs: number }> = {
  yamnet: { inputs: ["yamnet_test_spectra"], top1: { yamnet_test_spectra: "Speech" }, maxAbs: 1e-4 },
  yamnet_waveform: { inputs: ["yamnet_test_audio"], top1: { yamnet_test_audio: "Speech" }, maxAbs: 1e-4 },
  mobilenet_v2: {
    inputs: IMAGES,
    top1: { bird: "chickadee", cat: "Egyptian cat", parrot: "macaw", sunflower: "daisy" },
    maxAbs: 1e-4,
  },
  mobilenet_v1: { inputs: IMAGES, top1: {}, maxAbs: 1e-4 },
  tf2_mobilenet_v2: {
    inputs: IMAGES,
    top1: { bird: "chickadee", cat: "Egyptian cat", parrot: "macaw", sunflower: "daisy" },
    maxAbs: 1e-4,
  },
};

function labels(file: string): string[] {
  const text = new TextDecoder().decode(weightsFile(file)).trimEnd();
  if (file.endsWith(".csv")) {
    // index,mid,display_name — display names may be quoted and contain commas.
    return text.split(/\r?\n/).slice(1).map((line) => line.split(",").slice(2).join(",").replace(/^"|"$/g, ""));
  }
  return text.split(/\r?\n/);
}

const catalog = await loadEncoderCatalog();

for (const card of catalog.encoders) {
  const spec = CASES[card.name];
  Deno.test(`tfliteToOnnx() reproduces the reference embeddings of ${card.name}`, async () => {
    assert.ok(spec, `no parity case for ${card.name}`);
    const outputs = Object.fromEntries(Object.entries(card.outputs).map(([k, v]) => [k, v.tensor]));
    const converted = tfliteToOnnx(weightsFile(card.file), { outputs });
    assert.deepEqual(converted.outputShapes.embedding?.slice(1), [card.outputs.embedding.dim]);
    const session = await createSession(converted.onnx);
    const names = card.outputs.scores ? labels(card.outputs.scores.labels) : [];
    const quant = card.modality === "image" ? card.preprocess as ImagePreprocess : undefined;
    const results: string[] = [];
    for (const input of spec.inputs) {
      const out = await session.run({ input: referenceInput(input, quant) });
      const ref = floats(`reference/${card.file.replace(/\.tflite$/, "")}__${input}.bin`);
      const embedding = out.embedding!;
      assert.deepEqual(embedding.dims, [1, card.outputs.embedding.dim]);
      const { cosine, maxAbs } = compare(embedding.data, ref);
      results.push(`${input}: cosine ${cosine.toFixed(9)}, max abs ${maxAbs.toExponential(2)}`);
      assert.ok(cosine > 0.999, `${card.name}/${input}: cosine ${cosine}`);
      assert.ok(maxAbs <= spec.maxAbs, `${card.name}/${input}: max abs error ${maxAbs} > ${spec.maxAbs}`);
      const expected: string | undefined = spec.top1[input];
      if (expected !== undefined) {
        assert.equal(names[argmax(out.scores!.data)], expected, `${card.name}/${input} top-1`);
      }
    }
    console.log(`${card.name}: ${results.join("; ")}`);
    await session.release();
  });
}

Deno.test("tfliteToOnnx() keeps a symbolic batch: N images or patches in one call match one-by-one runs", async () => {
  const cards = catalog.encoders.filter((c) => c.name === "mobilenet_v2" || c.name === "yamnet");
  for (const card of cards) {
    const outputs = Object.fromEntries(Object.entries(card.outputs).map(([k, v]) => [k, v.tensor]));
    const converted = tfliteToOnnx(weightsFile(card.file), { outputs });
    assert.equal(converted.symbolicBatch, true, card.name);
    assert.equal(converted.inputShape[0], "N");
    const session = await createSession(converted.onnx);
    const singles = card.modality === "image"
      ? IMAGES.map((i) => referenceInput(i, card.preprocess as ImagePreprocess))
      : [
        referenceInput("yamnet_test_spectra"),
        { data: new Float32Array(96 * 64).fill(Math.log(0.001)), dims: [1, 96, 64] },
        { data: Float32Array.from({ length: 96 * 64 }, (_, i) => Math.sin(i / 7)), dims: [1, 96, 64] },
      ];
    const batch = new Float32Array(singles.reduce((n, s) => n + s.data.length, 0));
    singles.reduce((offset, s) => (batch.set(s.data, offset), offset + s.data.length), 0);
    const dims = [singles.length, ...singles[0]!.dims.slice(1)];
    const out = await session.run({ input: { data: batch, dims } });
    const dim = card.outputs.embedding.dim;
    assert.deepEqual(out.embedding!.dims, [singles.length, dim]);
    for (const [i, single] of singles.entries()) {
      const one = (await session.run({ input: single })).embedding!.data;
      const { maxAbs } = compare(out.embedding!.data.subarray(i * dim, (i + 1) * dim), one);
      assert.ok(maxAbs < 1e-5, `${card.name} item ${i}: max abs ${maxAbs}`);
    }
    await session.release();
  }
});

Deno.test("tfliteToOnnx() keeps batch 1 where the graph moves the batch dimension (yamnet waveform)", () => {
  const converted = tfliteToOnnx(weightsFile("yamnet.tflite"), {
    outputs: { embedding: "yamnet_frames/global_average_pooling2d/Mean", log_mel: "Identity_1" },
  });
  assert.equal(converted.symbolicBatch, false);
  assert.deepEqual(converted.inputShape, [1, 15600]);
  assert.deepEqual(converted.outputShapes, { embedding: [1, 1024], log_mel: [96, 64] });
  assert.match(converted.fixedBatchReason ?? "", /moves the batch dimension/);
});

Deno.test("findTensor() matches exact names and ;-joined fused names, and names what is missing", () => {
  const model = readTflite(weightsFile("tf2_mobilenet_v2_1.0_224_ptq.tflite"));
  const mean = findTensor(model, "MobileNetV2/top/GlobalPool/Mean");
  assert.deepEqual(model.tensors[mean]!.shape, [1, 1, 1, 1280]);
  assert.equal(model.tensors[findTensor(model, "Identity")]!.name, "Identity");
  assert.throws(() => findTensor(model, "no/such/tensor"), /no tensor named "no\/such\/tensor"/);
});

Deno.test("tfliteToOnnx() names an unsupported operator in its error", () => {
  // EXP (47) is not used by the pinned encoders, so the importer does not translate it.
  assert.throws(
    () => tfliteToOnnx(tinyTflite(47, [1, 4]), { outputs: { y: "y" } }),
    /Unsupported TFLite operator EXP/,
  );
});

Deno.test("tfliteToOnnx() converts a generated one-op model that runs", async () => {
  const converted = tfliteToOnnx(tinyTflite(14, [1, 3]), { outputs: { y: "y" } });
  assert.deepEqual(converted.inputShape, ["N", 3]);
  const session = await createSession(converted.onnx);
  const out = await session.run({ input: { data: Float32Array.from([0, 100, -100]), dims: [1, 3] } });
  assert.deepEqual(Array.from(out.y!.data), [0.5, 1, 0]);
  await session.release();
});
