import assert from "node:assert/strict";
import { join } from "node:path";
import { readModelManifest } from "../../../lib/joint/model_manifest.ts";
import { readArtifact } from "../../../lib/joint/artifact.ts";
import { loadTranslator } from "../../../lib/joint/translator.ts";
import { loadJointSpace } from "../../../lib/joint/joint_space.ts";
import { assertTranslatorParity, committedParity } from "../../scripts/train/parity_helpers.ts";

const REPO = new URL("../../../", import.meta.url).pathname;
const MODELS = join(REPO, "models");

Deno.test({
  name: "translate() maps both modalities to unit-length 128-d vectors (committed models)",
  fn: async () => {
    const manifest = await readModelManifest(MODELS);
    const joint = await loadJointSpace(MODELS, { threads: 1 });
    for (const modality of ["audio", "image"] as const) {
      const spec = manifest.artifacts[`translator_${modality}`];
      const x = Float32Array.from({ length: spec.dimIn }, (_, i) => Math.sin(i));
      const z = await joint.translate(modality, x);
      assert.equal(z.length, 128);
      assert.ok(Math.abs(Math.hypot(...z) - 1) < 1e-5);
      const p = joint.classifier.predictProba(z);
      assert.equal(p.length, joint.labels.length);
      assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-5);
    }
    await assert.rejects(joint.translate("audio", new Float32Array(5)), RangeError);
  },
});

Deno.test({
  name: "translate() matches PyTorch within 1e-4 (committed models)",
  fn: async () => {
    const found = await committedParity(MODELS);
    for (const modality of ["audio", "image"] as const) {
      const spec = found.manifest.artifacts[`translator_${modality}`];
      const head = await loadTranslator(await readArtifact(MODELS, spec), spec, { threads: 1 });
      await assertTranslatorParity(head, found.dir, modality);
    }
  },
});
