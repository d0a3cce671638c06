import assert from "node:assert/strict";
import { createSession } from "../../../../lib/backend/onnx.ts";
import { encodeOnnx } from "../../../../lib/encoders/import/onnx_proto.ts";

Deno.test("encodeOnnx() writes a model onnxruntime runs: attributes, int8 initializer, symbolic dim", async () => {
  // y = Clip(x * DequantizeLinear(int8 [2,-4], scale 0.5), -1.5, 10) with a symbolic batch.
  const bytes = encodeOnnx({
    name: "t",
    opset: 13,
    inputs: [{ name: "x", type: "float32", shape: ["N", 2] }],
    outputs: [{ name: "y", type: "float32", shape: ["N", 2] }],
    initializers: [
      { name: "q", type: "int8", dims: [2], raw: new Uint8Array(Int8Array.from([2, -4]).buffer) },
      { name: "s", type: "float32", dims: [], raw: new Uint8Array(Float32Array.from([0.5]).buffer) },
      { name: "lo", type: "float32", dims: [], raw: new Uint8Array(Float32Array.from([-1.5]).buffer) },
      { name: "hi", type: "float32", dims: [], raw: new Uint8Array(Float32Array.from([10]).buffer) },
    ],
    nodes: [
      { op: "DequantizeLinear", inputs: ["q", "s"], outputs: ["w"] },
      { op: "Mul", inputs: ["x", "w"], outputs: ["xw"] },
      { op: "Clip", inputs: ["xw", "lo", "hi"], outputs: ["c"] },
      { op: "Transpose", inputs: ["c"], outputs: ["ct"], attrs: { perm: [1, 0] } },
      { op: "Transpose", inputs: ["ct"], outputs: ["y"], attrs: { perm: [1, 0] } },
    ],
  });
  const session = await createSession(bytes);
  const out = await session.run({ x: { data: Float32Array.from([1, 1, 3, -2]), dims: [2, 2] } });
  assert.deepEqual(out.y!.dims, [2, 2]);
  assert.deepEqual(Array.from(out.y!.data), [1, -1.5, 3, 4]);
  await session.release();
});
