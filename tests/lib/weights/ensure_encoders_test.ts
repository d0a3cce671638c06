import assert from "node:assert/strict";
import { join } from "node:path";
import { ensureEncoders } from "../../../lib/weights/ensure_encoders.ts";
import { sha256Hex } from "../../../lib/weights/sha256.ts";
import { WEIGHTS_DIR } from "../encoders/import/_reference.ts";

Deno.test("ensureEncoders() converts into the cache once, then reuses it", async () => {
  const cacheDir = await Deno.makeTempDir({ prefix: "amodal_cache_" });
  const lines: string[] = [];
  const opts = {
    cacheDir,
    weightsDir: WEIGHTS_DIR,
    names: ["mobilenet_v1", "yamnet"],
    log: (l: string) => lines.push(l),
  };
  const first = await ensureEncoders(opts);
  assert.deepEqual(Object.keys(first), ["mobilenet_v1", "yamnet"]);
  assert.ok(lines.some((l) => l.startsWith("importing mobilenet_v1 from ") && l.includes(WEIGHTS_DIR)));
  const yamnet = first.yamnet!;
  assert.equal(yamnet.onnxPath, join(cacheDir, "encoders", "yamnet.onnx"));
  assert.equal(yamnet.labelsPath, join(WEIGHTS_DIR, "yamnet_class_map.csv"));
  assert.equal(first.mobilenet_v1!.labelsPath, undefined);
  const side = JSON.parse(await Deno.readTextFile(yamnet.cardPath));
  assert.equal(side.name, "yamnet");
  assert.deepEqual(side.onnx.inputShape, ["N", 96, 64]);
  assert.equal(side.onnx.sha256, await sha256Hex(await Deno.readFile(yamnet.onnxPath)));
  const mtime = (await Deno.stat(yamnet.onnxPath)).mtime;

  lines.length = 0;
  await ensureEncoders(opts);
  assert.deepEqual(lines.filter((l) => l.startsWith("importing")), []);
  assert.deepEqual((await Deno.stat(yamnet.onnxPath)).mtime, mtime);

  // A damaged graph no longer matches its sidecar hash and is rebuilt.
  await Deno.writeFile(yamnet.onnxPath, new Uint8Array([1, 2, 3]), { append: true });
  await ensureEncoders(opts);
  assert.deepEqual(lines.filter((l) => l.startsWith("importing")), [
    `importing yamnet from ${join(WEIGHTS_DIR, "yamnet_spectra_in.tflite")} ...`,
  ]);
  assert.equal(side.onnx.sha256, await sha256Hex(await Deno.readFile(yamnet.onnxPath)));
  const leftovers = [...Deno.readDirSync(join(cacheDir, "encoders"))].filter((e) => e.name.includes(".tmp-"));
  assert.deepEqual(leftovers, []);
  await Deno.remove(cacheDir, { recursive: true });
});

Deno.test("ensureEncoders() fails clearly for unknown names and wrong local files", async () => {
  const root = await Deno.makeTempDir({ prefix: "amodal_cache_" });
  await assert.rejects(
    () => ensureEncoders({ cacheDir: root, weightsDir: WEIGHTS_DIR, names: ["resnet"], log: () => {} }),
    /Unknown encoder "resnet"; known: yamnet, yamnet_waveform, mobilenet_v2/,
  );
  const weightsDir = join(root, "weights");
  await Deno.mkdir(weightsDir);
  await Deno.writeTextFile(join(weightsDir, "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite"), "TFL3 fake");
  await assert.rejects(
    () => ensureEncoders({ cacheDir: root, weightsDir, names: ["mobilenet_v1"], fetch: null, log: () => {} }),
    /Cannot find mobilenet_v1_1\.0_224_quant_embedding_extractor\.tflite with sha256 f409ef4f[\s\S]*sha256 mismatch/,
  );
  await Deno.remove(root, { recursive: true });
});
