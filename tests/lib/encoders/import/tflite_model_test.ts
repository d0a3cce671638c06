import assert from "node:assert/strict";
import { readTflite } from "../../../../lib/encoders/import/tflite_model.ts";
import { weightsFile } from "./_reference.ts";
import { tinyTflite } from "./_tiny_tflite.ts";

Deno.test("readTflite() reads tensors, quantisation and operators of the pinned models", () => {
  const cases: Array<{ file: string; input: [string, number[], string]; ops: number; firstOp: string }> = [
    {
      file: "yamnet_spectra_in.tflite",
      input: ["feature_patch_in:0", [1, 96, 64], "float32"],
      ops: 34,
      firstOp: "QUANTIZE",
    },
    { file: "yamnet.tflite", input: ["input_1", [1, 15600], "float32"], ops: 60, firstOp: "RESHAPE" },
    {
      file: "mobilenet_v2_1.0_224_quant.tflite",
      input: ["input", [1, 224, 224, 3], "uint8"],
      ops: 66,
      firstOp: "CONV_2D",
    },
  ];
  for (const c of cases) {
    const model = readTflite(weightsFile(c.file));
    const input = model.tensors[model.inputs[0]!]!;
    assert.deepEqual([input.name, input.shape, input.type], c.input, c.file);
    assert.equal(model.operators.length, c.ops, c.file);
    assert.equal(model.operators[0]!.opName, c.firstOp, c.file);
  }
  const mnv2 = readTflite(weightsFile("mobilenet_v2_1.0_224_quant.tflite"));
  const q = mnv2.tensors[mnv2.inputs[0]!]!.quantization!;
  assert.deepEqual([q.scale[0], q.zeroPoint[0]], [0.0078125, 128]);
  // Per-channel int8 weights of the coral YAMNet: one scale per output channel.
  const yam = readTflite(weightsFile("yamnet_spectra_in.tflite"));
  const conv = yam.operators.find((op) => op.opName === "CONV_2D")!;
  const w = yam.tensors[conv.inputs[1]!]!;
  assert.equal(w.type, "int8");
  assert.equal(w.quantization!.scale.length, 32);
  assert.equal(w.data!.length, 32 * 3 * 3 * 1);
});

Deno.test("readTflite() reads a generated one-op model and rejects non-TFLite bytes", () => {
  const model = readTflite(tinyTflite(14, [2, 3]));
  assert.deepEqual(model.operators.map((op) => op.opName), ["LOGISTIC"]);
  assert.deepEqual(model.tensors.map((t) => [t.name, t.shape, t.type]), [["x", [2, 3], "float32"], [
    "y",
    [2, 3],
    "float32",
  ]]);
  assert.throws(() => readTflite(new TextEncoder().encode("not a flatbuffer at all")), SyntaxError);
});
