import assert from "node:assert/strict";
import { join } from "node:path";
import { createSession } from "../../../lib/backend/onnx.ts";
import { encodeOnnx } from "../../../lib/encoders/import/onnx_proto.ts";

/** a + b and a * b over [N, 2] inputs. */
function twoInputModel(): Uint8Array {
  return encodeOnnx({
    name: "add_mul",
    opset: 13,
    initializers: [],
    inputs: [{ name: "a", type: "float32", shape: ["N", 2] }, { name: "b", type: "float32", shape: ["N", 2] }],
    outputs: [{ name: "sum", type: "float32", shape: ["N", 2] }, { name: "prod", type: "float32", shape: ["N", 2] }],
    nodes: [{ op: "Add", inputs: ["a", "b"], outputs: ["sum"] }, { op: "Mul", inputs: ["a", "b"], outputs: ["prod"] }],
  });
}

Deno.test("createSession() runs a model from bytes or a path and selects outputs", async () => {
  const dir = await Deno.makeTempDir({ prefix: "amodal_onnx_" });
  const path = join(dir, "m.onnx");
  await Deno.writeFile(path, twoInputModel());
  for (const source of [twoInputModel(), path]) {
    const session = await createSession(source, { threads: 2 });
    assert.equal(session.provider, "wasm");
    assert.deepEqual([...session.inputNames], ["a", "b"]);
    assert.deepEqual([...session.outputNames], ["sum", "prod"]);
    const feeds = {
      a: { data: Float32Array.from([1, 2]), dims: [1, 2] },
      b: { data: Float32Array.from([3, 4]), dims: [1, 2] },
    };
    const all = await session.run(feeds);
    assert.deepEqual(Array.from(all.sum!.data), [4, 6]);
    assert.deepEqual(Array.from(all.prod!.data), [3, 8]);
    const only = await session.run(feeds, ["prod"]);
    assert.deepEqual(Object.keys(only), ["prod"]);
    await session.release();
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("Session.run() validates inputs and outputs with messages listing names", async () => {
  const session = await createSession(twoInputModel());
  const a = { data: Float32Array.from([1, 2]), dims: [1, 2] };
  const cases: Array<[Parameters<typeof session.run>, RegExp]> = [
    [[{ a }], /missing inputs \[b\], unknown inputs \[\]; expected \[a, b\]/],
    [[{ a, b: a, c: a }], /missing inputs \[\], unknown inputs \[c\]/],
    [[{ a, b: { data: new Float32Array(3), dims: [1, 2] } }], /input "b" has 3 values, dims \[1,2\] need 2/],
    [[{ a, b: a }, ["diff"]], /unknown outputs \[diff\]; available \[sum, prod\]/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(() => session.run(...args), (e: Error) => e instanceof TypeError && message.test(e.message));
  }
  await session.release();
});

Deno.test("createSession() with webgpu falls back to WASM without a hardware adapter", async () => {
  // This machine exposes at most a software (fallback) adapter, which does not count.
  // deno-lint-ignore no-explicit-any
  const adapter = await (navigator as any).gpu?.requestAdapter().catch(() => null);
  const session = await createSession(twoInputModel(), { webgpu: true });
  if (!adapter || adapter.isFallbackAdapter) assert.equal(session.provider, "wasm");
  await session.release();
});

Deno.test("createSession() gives the same outputs with and without spinning threads", async () => {
  const feeds = {
    a: { data: Float32Array.from({ length: 64 }, (_, i) => i / 7), dims: [32, 2] },
    b: { data: Float32Array.from({ length: 64 }, (_, i) => 1 - i / 9), dims: [32, 2] },
  };
  const [still, spinning] = await Promise.all([
    createSession(twoInputModel(), { threads: 2, spin: false }),
    createSession(twoInputModel(), { threads: 2, spin: true }),
  ]);
  assert.deepEqual(await still.run(feeds), await spinning.run(feeds));
  await Promise.all([still.release(), spinning.release()]);
});
