/**
 * scripts/train/frames.py (frame-level levers, issue 17): pooling per-patch probabilities into a
 * clip's, and YAMNet's last blocks imported into PyTorch from the served graph, against that graph's
 * own per-patch embeddings (the derived graph of scripts/embed/patch_graph.py gives the activation
 * entering them).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../../lib/config.ts";
import { createSession } from "../../../lib/backend/onnx.ts";
import { audioInput } from "../../../lib/features/encoder_input.ts";
import { decodeAudio } from "../../../lib/media/decode_audio.ts";
import { ensureEncoders } from "../../../lib/weights/ensure_encoders.ts";
import { missingPython } from "../../../scripts/setup/python.ts";
import { PYTHON, runTrainPython } from "./_python.ts";

const PATCH_GRAPH = fileURLToPath(new URL("../../../scripts/embed/patch_graph.py", import.meta.url));
const ready = (await missingPython(["numpy", "torch", "onnx"], PYTHON)).length === 0;
const VIOLIN = "audio/iowa_pitchfinder/violin/violin__Violin.arco.ff.sulD.G4.stereo.flac";

/** Runs `code` with scripts/train on the import path (`import frames`). */
const py = (code: string) => runTrainPython("import frames", code);

Deno.test({
  name: "pool_items() pools patch probabilities per clip by the mean and by the mean of logs",
  ignore: !ready,
  fn: async () => {
    const got = await py(`
import numpy as np
p = np.array([[0.9, 0.1], [0.2, 0.8], [0.5, 0.5], [0.6, 0.4]])
item = np.array(["b", "a", "b", "c"])
out = {}
for mode in ("mean-prob", "mean-logprob"):
    items, q = frames.pool_items(p, item, mode)
    out[mode] = {"items": items.tolist(), "q": q.tolist()}
try:
    frames.pool_items(p, item, "max")
except ValueError as e:
    out["error"] = str(e)
print(json.dumps(out))`);
    const near = (a: number[][], b: number[][]) =>
      a.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - b[i]![j]!) < 1e-12, `${a} vs ${b}`)));
    const mean = got["mean-prob"] as { items: string[]; q: number[][] };
    // Items in order of first appearance; "b" pools rows 0 and 2.
    assert.deepEqual(mean.items, ["b", "a", "c"]);
    near(mean.q, [[0.7, 0.3], [0.2, 0.8], [0.6, 0.4]]);
    const geo = got["mean-logprob"] as { items: string[]; q: number[][] };
    const g0 = Math.sqrt(0.9 * 0.5), g1 = Math.sqrt(0.1 * 0.5);
    near(geo.q, [[g0 / (g0 + g1), g1 / (g0 + g1)], [0.2, 0.8], [0.6, 0.4]]);
    assert.match(String(got.error), /unknown frame pooling 'max'/);
  },
});

Deno.test({
  name: "load_last_blocks() reproduces the served YAMNet graph's patch embeddings from the derived graph's block_in",
  ignore: !ready,
  sanitizeResources: false,
  fn: async () => {
    const { card, onnxPath } = (await ensureEncoders({ names: ["yamnet"], log: () => {} })).yamnet!;
    const dir = await Deno.makeTempDir({ prefix: "amodal-frames-" });
    try {
      const derived = join(dir, "yamnet_patches.onnx");
      const made = await new Deno.Command(PYTHON, { args: [PATCH_GRAPH, onnxPath, derived], stdout: "piped" }).output();
      assert.ok(made.success);
      assert.equal(JSON.parse(new TextDecoder().decode(made.stdout)).output, "block_in");
      const session = await createSession(derived, { threads: 1 });
      const { samples } = await decodeAudio(await Deno.readFile(join(loadConfig().corpusDir, VIOLIN)));
      const input = audioInput(card, samples);
      const rows = Math.min(input.count, 4), size = input.data.length / input.count;
      const out = await session.run(
        { input: { data: input.data.slice(0, rows * size), dims: [rows, 96, 64] } },
        ["embedding", "block_in"],
      );
      await session.release();
      assert.deepEqual(out.block_in!.dims, [rows, 512, 6, 4]);
      await Deno.writeFile(join(dir, "e.f32"), new Uint8Array(out.embedding!.data.buffer));
      await Deno.writeFile(join(dir, "b.f32"), new Uint8Array(out.block_in!.data.buffer));
      const got = await py(`
import numpy as np, torch
e = np.fromfile(${JSON.stringify(join(dir, "e.f32"))}, "<f4").reshape(${rows}, 1024)
b = np.fromfile(${JSON.stringify(join(dir, "b.f32"))}, "<f4").reshape(${rows}, 512, 6, 4)
enc = frames.load_last_blocks(${JSON.stringify(onnxPath)}, 2, 1)
with torch.no_grad():
    mine = enc(torch.from_numpy(b)).numpy()
print(json.dumps({"diff": float(np.abs(mine - e).max()), "scale": float(np.abs(e).max()),
                  "trainable": [all(p.requires_grad for p in blk.parameters()) for blk in enc.blocks]}))`);
      assert.ok((got.diff as number) < 1e-4, `max |d| ${got.diff}`);
      assert.ok((got.scale as number) > 0.1, "the embedding is not all zeros");
      // Fine-tuning 1 block: the earlier block is frozen.
      assert.deepEqual(got.trainable, [false, true]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
