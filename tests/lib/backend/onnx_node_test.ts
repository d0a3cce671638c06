import assert from "node:assert/strict";
import { createSession } from "../../../lib/backend/onnx.ts";
import { loadConfig } from "../../../lib/config.ts";
import { ensureEncoders } from "../../../lib/weights/ensure_encoders.ts";
import { toImageTensor } from "../../../lib/features/image_tensor.ts";
import { join } from "node:path";

Deno.test("loadConfig() reads AMODAL_BACKEND", () => {
  const cases: [string | undefined, string][] = [[undefined, "web"], ["", "web"], ["web", "web"], ["node", "node"]];
  for (const [raw, expected] of cases) {
    assert.equal(loadConfig((k) => (k === "AMODAL_BACKEND" ? raw : undefined)).backend, expected);
  }
  assert.throws(() => loadConfig((k) => (k === "AMODAL_BACKEND" ? "cuda" : undefined)), /AMODAL_BACKEND: "cuda"/);
});

// The optional native backend must serve the same embeddings as the shipped WASM one.
Deno.test("createSession() backend node matches web on the served encoders", async () => {
  const config = loadConfig();
  const encoders = await ensureEncoders({
    cacheDir: config.cacheDir,
    weightsDir: config.weightsDir,
    names: ["mobilenet_v2", "yamnet"],
    log: () => {},
  });
  // Real inputs: a reference photo's RGB bytes and the YAMNet test spectra ([1, 96, 64]).
  const pixels = await Deno.readFile(join(config.weightsDir, "reference/inputs/parrot_224x224_rgb_uint8.bin"));
  const spectra = await Deno.readFile(join(config.weightsDir, "fixtures/yamnet_test_spectra.bin"));
  const cases = [
    { name: "mobilenet_v2", data: toImageTensor(pixels, { scale: 1 / 128, zeroPoint: 128 }), dims: [1, 224, 224, 3] },
    { name: "yamnet", data: new Float32Array(spectra.buffer, spectra.byteOffset, 96 * 64), dims: [1, 96, 64] },
  ];
  for (const { name, data, dims } of cases) {
    const web = await createSession(encoders[name]!.onnxPath, { threads: 2 });
    const node = await createSession(encoders[name]!.onnxPath, { threads: 2, backend: "node" });
    assert.equal(node.provider, "native");
    assert.deepEqual(node.outputNames, web.outputNames);
    const a = await web.run({ input: { data, dims } });
    const b = await node.run({ input: { data, dims } });
    for (const output of web.outputNames) {
      assert.deepEqual(b[output]!.dims, a[output]!.dims);
      const max = Math.max(...a[output]!.data.map(Math.abs));
      const diff = Math.max(...a[output]!.data.map((v, i) => Math.abs(v - b[output]!.data[i]!)));
      assert.ok(diff <= 1e-5 * Math.max(1, max), `${name}.${output}: max abs diff ${diff} (max |value| ${max})`);
    }
    await assert.rejects(() => node.run({}), /missing inputs \[input\]/);
    await web.release();
    await node.release();
  }
});
