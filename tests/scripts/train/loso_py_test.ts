/**
 * scripts/train/loso.py: balancing weights, the per-(source, label) cap, the input projection
 * folded into the translator's first layer, the image head's ImageNet prior and the audio head's
 * AudioSet prior (against the served YAMNet graph).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../../lib/config.ts";
import { LABELS } from "../../../lib/labels.ts";
import { createSession } from "../../../lib/backend/onnx.ts";
import { audioPreprocess } from "../../../lib/features/encoder_input.ts";
import { logMel } from "../../../lib/features/log_mel.ts";
import { padWaveform } from "../../../lib/features/pad_waveform.ts";
import { toPatches } from "../../../lib/features/patches.ts";
import { decodeAudio } from "../../../lib/media/decode_audio.ts";
import { ensureEncoders } from "../../../lib/weights/ensure_encoders.ts";
import { missingPython } from "../../../scripts/setup/python.ts";
import { PYTHON, runTrainPython } from "./_python.ts";

const ready = (await missingPython(["numpy", "sklearn", "torch", "onnx"], PYTHON)).length === 0;
const VIOLIN = "audio/iowa_pitchfinder/violin/violin__Violin.arco.ff.sulD.G4.stereo.flac";

/** Runs `code` with scripts/train on the import path (`import loso as L`). */
const py = (code: string) => runTrainPython("import loso as L", code);

Deno.test({
  name: "balance_weights() gives every label, and every source within it, the same weight",
  ignore: !ready,
  fn: async () => {
    const got = await py(`
import numpy as np
y = np.array([0, 0, 0, 0, 1, 1])
src = np.array(["a", "a", "a", "b", "a", "a"])
print(json.dumps({m: L.balance_weights(y, src, m).tolist() for m in ("none", "label", "source-label")}))`);
    assert.deepEqual(got.none, [1, 1, 1, 1, 1, 1]);
    // label: each label weighs 3 of 6; source-label: label 0's half goes half to a (3 rows), half to b (1 row).
    const near = (a: number[], b: number[]) => a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) < 1e-12, `${a}`));
    near(got.label as number[], [0.75, 0.75, 0.75, 0.75, 1.5, 1.5]);
    near(got["source-label"] as number[], [0.5, 0.5, 0.5, 1.5, 1.5, 1.5]);
  },
});

Deno.test({
  name: "cap_mask() keeps at most cap items per (source, label) and their views",
  ignore: !ready,
  fn: async () => {
    const got = await py(`
import numpy as np
p = object.__new__(L.Pool)
p.rows = [{"id": f"i{k % 5}"} for k in range(10)]
p.view = np.array([0] * 5 + [1] * 5)
p.source = np.array(["s"] * 10)
p.y = np.array([0] * 10)
m = L.cap_mask(p, np.ones(10, bool), 2, 1)
kept = sorted({p.rows[i]["id"] for i in np.nonzero(m)[0]})
print(json.dumps({"n": int(m.sum()), "kept": kept, "views_follow": bool((m[:5] == m[5:]).all()), "all": int(L.cap_mask(p, np.ones(10, bool), 0, 1).sum())}))`);
    assert.equal(got.n, 4);
    assert.equal((got.kept as string[]).length, 2);
    assert.equal(got.views_follow, true);
    assert.equal(got.all, 10);
  },
});

Deno.test({
  name: "recipe_mask() takes the recipe's views of each family, its augmented domains, and test_mask() a test view",
  ignore: !ready,
  fn: async () => {
    const got = await py(`
import numpy as np
p = object.__new__(L.Pool)
p.view = np.array([0, 1, 2, 101, 102, 0, 1, 101])
p.source = np.array(["s"] * 8)
p.role = np.array(["translation-train"] * 8)
p.domain = np.array(["recording"] * 5 + ["rendered"] * 3)
folds = {"neverTrain": ["classify-test"]}
def views(cfg):
    return p.view[L.recipe_mask(p, [], folds, {"views": 0, **cfg})].tolist()
print(json.dumps({"old": views({}), "first": views({"views": 1}), "second": views({"sourceViews": 1}),
                  "both": views({"views": 2, "sourceViews": 2}),
                  "rendered": views({"views": 1, "sourceViews": 1, "augmentDomains": ["rendered"]}),
                  "test101": np.nonzero(L.test_mask(p, ["s"], 101))[0].tolist()}))`);
    assert.deepEqual(got.old, [0, 0]);
    assert.deepEqual(got.first, [0, 1, 0, 1]);
    assert.deepEqual(got.second, [0, 101, 0, 101]);
    assert.deepEqual(got.both, [0, 1, 2, 101, 102, 0, 1, 101]);
    assert.deepEqual(got.rendered, [0, 0, 1, 101]);
    assert.deepEqual(got.test101, [3, 7]);
  },
});

Deno.test({
  name: "fold_input_projection() and PriorHead reproduce the trained computation on raw embeddings",
  ignore: !ready,
  fn: async () => {
    const got = await py(`
import numpy as np, torch
from translate import Head
torch.manual_seed(0)
rng = np.random.default_rng(0)
x = rng.normal(size=(50, 12)).astype(np.float32)
mean, comps = L.pca_basis(x, 4)
head = Head(4, 8, 3).eval()
with torch.no_grad():
    want = head(torch.from_numpy(((x - mean) @ comps.T).astype(np.float32))).numpy()
    got = L.fold_input_projection(head, mean, comps, 12)(torch.from_numpy(x)).numpy()
    # Prior: 5 "ImageNet" classes, classes 1 and 2 name label 0, class 4 names label 1.
    w, b = rng.normal(size=(5, 12)).astype(np.float32), np.zeros(5, np.float32)
    m = np.zeros((5, 2), np.float32); m[1, 0] = m[2, 0] = m[4, 1] = 1
    protos = torch.nn.functional.normalize(torch.randn(2, 3), dim=1)
    ph = L.PriorHead(L.fold_input_projection(head, mean, comps, 12), (w, b, m), protos, 10.0)
    z = ph(torch.from_numpy(x)).numpy()
    p = np.exp(x @ w.T); p /= p.sum(1, keepdims=True)
    q = p @ m
    zz = got + 10.0 * q @ protos.numpy(); zz /= np.linalg.norm(zz, axis=1, keepdims=True)
print(json.dumps({"fold": float(np.abs(got - want).max()), "prior": float(np.abs(z - zz).max()),
                  "norm": float(np.abs(np.linalg.norm(z, axis=1) - 1).max())}))`);
    assert.ok((got.fold as number) < 1e-5, `fold ${got.fold}`);
    assert.ok((got.prior as number) < 1e-5, `prior ${got.prior}`);
    assert.ok((got.norm as number) < 1e-5);
  },
});

Deno.test({
  name: "load_audioset_prior() reproduces the served YAMNet graph's AudioSet scores from its patch embeddings",
  ignore: !ready,
  sanitizeResources: false,
  fn: async () => {
    const { card, onnxPath } = (await ensureEncoders({ names: ["yamnet"], log: () => {} })).yamnet!;
    const session = await createSession(onnxPath, { threads: 1 });
    const { samples } = await decodeAudio(await Deno.readFile(join(loadConfig().corpusDir, VIOLIN)));
    const patches = toPatches(logMel(padWaveform(samples), audioPreprocess(card).logMel!));
    const rows = Math.min(patches.count, 4), size = patches.data.length / patches.count;
    const out = await session.run(
      { input: { data: patches.data.slice(0, rows * size), dims: [rows, 96, 64] } },
      ["embedding", "scores"],
    );
    const dir = await Deno.makeTempDir({ prefix: "amodal-audioset-" });
    try {
      await Deno.writeFile(join(dir, "e.f32"), new Uint8Array((out.embedding!.data as Float32Array).buffer));
      await Deno.writeFile(join(dir, "s.f32"), new Uint8Array((out.scores!.data as Float32Array).buffer));
      const classes = join(loadConfig().weightsDir, card.outputs.scores!.labels);
      const got = await py(`
import numpy as np, torch
e = np.fromfile(${JSON.stringify(join(dir, "e.f32"))}, "<f4").reshape(${rows}, 1024)
s = np.fromfile(${JSON.stringify(join(dir, "s.f32"))}, "<f4").reshape(${rows}, -1)
labels = ${JSON.stringify(LABELS)}
w, b, cols = L.load_audioset_prior(${JSON.stringify(onnxPath)}, ${JSON.stringify(classes)}, labels)
mine = 1 / (1 + np.exp(-(e.astype(np.float64) @ w.T.astype(np.float64) + b)))
# The prior head from the embedding equals head(x) + beta * per-label max score @ prototypes, normalised.
torch.manual_seed(0)
head = torch.nn.Linear(1024, 3)
protos = torch.nn.functional.normalize(torch.randn(len(labels), 3), dim=1)
ah = L.AudioPriorHead(head, (w, b, cols), protos, 3.0, "embedding", "max").eval()
with torch.no_grad():
    z = ah(torch.from_numpy(e)).numpy()
    mass = np.stack([mine[:, c].max(1) if c else np.zeros(len(e)) for c in cols], 1)
    zz = head(torch.from_numpy(e)).numpy() + 3.0 * mass @ protos.numpy()
zz /= np.linalg.norm(zz, axis=1, keepdims=True)
print(json.dumps({"scores": float(np.abs(mine - s).max()), "head": float(np.abs(z - zz).max()),
                  "violin": labels[int(mass.mean(0).argmax())], "mapped": sum(1 for c in cols if c)}))`);
      assert.ok((got.scores as number) < 1e-4, `scores ${got.scores}`);
      assert.ok((got.head as number) < 1e-5, `head ${got.head}`);
      // Every label but none has an AudioSet class; a violin's largest label mass is violin.
      assert.equal(got.mapped, LABELS.length);
      assert.equal(got.violin, "violin");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
