import assert from "node:assert/strict";
import { countMacs } from "../../../scripts/bench/onnx_macs.ts";
import { encodeOnnx } from "../../../lib/encoders/import/onnx_proto.ts";
import { ensureEncoders } from "../../../lib/weights/ensure_encoders.ts";
import { loadConfig } from "../../../lib/config.ts";

Deno.test("countMacs() counts Conv (grouped and not) and Gemm from propagated shapes", () => {
  const f32 = (name: string, dims: number[]) => ({
    name,
    type: "float32" as const,
    dims,
    raw: new Uint8Array(4 * dims.reduce((a, b) => a * b, 1)),
  });
  const model = encodeOnnx({
    name: "tiny",
    opset: 13,
    inputs: [{ name: "input", type: "float32", shape: ["N", 3, 8, 8] }],
    outputs: [{ name: "y", type: "float32", shape: ["N", 5] }],
    initializers: [f32("w1", [4, 3, 3, 3]), f32("w2", [4, 1, 3, 3]), f32("w3", [5, 64])],
    nodes: [
      // 3x3 stride 1 pad 1: 4 x 8 x 8 outputs, 27 MACs each.
      { op: "Conv", inputs: ["input", "w1"], outputs: ["a"], attrs: { pads: [1, 1, 1, 1] } },
      // Depthwise 3x3 stride 2 no pad: 4 x 3 x 3 outputs, 9 MACs each.
      { op: "Conv", inputs: ["a", "w2"], outputs: ["b"], attrs: { group: 4, strides: [2, 2] } },
      { op: "Pad", inputs: ["b"], outputs: ["c"], attrs: { pads: [0, 0, 0, 0, 0, 0, 1, 1] } },
      { op: "Flatten", inputs: ["c"], outputs: ["d"] },
      // [1, 64] x [64, 5] transposed: 5 outputs, 64 MACs each.
      { op: "Gemm", inputs: ["d", "w3"], outputs: ["y"], attrs: { transB: 1 } },
    ],
  });
  const count = countMacs(model);
  assert.deepEqual(count.byOp, { Conv: 4 * 64 * 27, DepthwiseConv: 4 * 9 * 9, Gemm: 5 * 64 });
  assert.equal(count.total, 4 * 64 * 27 + 4 * 9 * 9 + 5 * 64);
  assert.deepEqual(count.nodes, { Conv: 2, Pad: 1, Flatten: 1, Gemm: 1 });
});

Deno.test("countMacs() gives the published counts of the served encoders", async () => {
  const config = loadConfig();
  const encoders = await ensureEncoders({
    cacheDir: config.cacheDir,
    weightsDir: config.weightsDir,
    names: ["mobilenet_v2", "yamnet"],
    log: () => {},
  });
  // Reference counts from the issue: MobileNetV2 300.8 M, YAMNet 69.2 M per patch (both including the score heads).
  const cases: [string, number][] = [["mobilenet_v2", 300.8e6], ["yamnet", 69.2e6]];
  for (const [name, expected] of cases) {
    const { total } = countMacs(await Deno.readFile(encoders[name]!.onnxPath));
    assert.ok(Math.abs(total - expected) < 0.05e6, `${name}: ${total}`);
  }
});
