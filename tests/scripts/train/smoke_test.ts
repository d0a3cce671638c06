/**
 * CI smoke run of `deno task train --smoke`: every stage (embeddings, PCA, leave-one-source-out
 * folds, served translator + head, manifest) on a tiny corpus slice, written to a temp folder,
 * then evaluated by the TS runtime against the Python outputs.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadJointSpace } from "../../../lib/joint/joint_space.ts";
import { loadPca } from "../../../scripts/train/pca.ts";
import { readArtifact, REBUILD_COMMAND } from "../../../lib/joint/artifact.ts";
import { loadTranslator } from "../../../lib/joint/translator.ts";
import { missingPython, pythonPath } from "../../../scripts/setup/python.ts";
import { assertHeadParity, assertPcaParity, assertTranslatorParity } from "./parity_helpers.ts";

const REPO = new URL("../../../", import.meta.url).pathname;
const PYTHON = pythonPath();
// Skipped silently without them: `deno task setup` (run by `deno task test`) prints the one summary line.
const ready = (await missingPython(["torch", "sklearn", "onnx"], PYTHON)).length === 0;

Deno.test({
  name: "deno task train --smoke trains every stage and the TS runtime reproduces Python",
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const out = await Deno.makeTempDir({ prefix: "amodal-smoke-" });
    try {
      const run = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", join(REPO, "scripts/train/main.ts"), "--smoke", "--out", out],
        cwd: REPO,
        env: { AMODAL_PYTHON: PYTHON },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const log = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
      assert.ok(run.success, log.slice(-3000));
      const manifest = JSON.parse(await Deno.readTextFile(join(out, "manifest.json")));
      const parity = join(out, ".work", "train", "parity");

      await t.step("manifest records artifacts, encoders, LOSO and classify-test metrics", async () => {
        assert.equal(manifest.smoke, true);
        assert.equal(manifest.labels.length, 18);
        assert.ok(manifest.metrics.loso.audio.folds > 0 && manifest.metrics.loso.photo.folds > 0);
        assert.ok(manifest.metrics.classifyTest.audio >= 0);
        assert.match(manifest.encoders.audio.sha256, /^[0-9a-f]{64}$/);
        assert.match(manifest.dataset.sha256, /^[0-9a-f]{64}$/);
        const loso = JSON.parse(await Deno.readTextFile(join(out, "loso.json")));
        assert.equal(loso.format, "amodal-loso/1");
        for (const fold of loso.folds) {
          assert.ok(fold.macro_f1 >= 0 && fold.macro_f1 <= 1, fold.name);
          // A fold never trains on the source it tests.
          assert.ok(fold.excluded.includes(fold.name), fold.name);
        }
        assert.equal(loso.confusion.recording.counts.length, 18);
        await Deno.stat(join(out, ".work", "report", "loso.md"));
      });

      const joint = await loadJointSpace(out, { threads: 1 });
      await t.step("head: same argmax as Python, probabilities within the dump's tolerance", async () => {
        assert.ok(await assertHeadParity(joint.classifier, parity) > 0);
      });
      await t.step("translator heads: ONNX (onnxruntime-web) matches PyTorch within 1e-4", async () => {
        for (const modality of ["audio", "image"] as const) {
          const spec = manifest.artifacts[`translator_${modality}`];
          const head = await loadTranslator(await readArtifact(out, spec), spec, { threads: 1 });
          await assertTranslatorParity(head, parity, modality);
        }
      });
      await t.step("PCA matches numpy", async () => {
        const text = await Deno.readTextFile(join(out, "pca.json"));
        for (const modality of ["audio", "image"] as const) {
          await assertPcaParity(loadPca(text, modality), parity, modality);
        }
      });
      await t.step("a corrupt or missing artifact stops loading, naming the file and the command", async () => {
        const headFile = join(out, manifest.artifacts.head.file);
        const bytes = await Deno.readFile(headFile);
        await Deno.writeFile(headFile, bytes.subarray(0, bytes.length - 10));
        await assert.rejects(
          loadJointSpace(out),
          (e: Error) => e.message.includes(headFile) && e.message.includes(REBUILD_COMMAND),
        );
        await Deno.remove(headFile);
        await assert.rejects(
          loadJointSpace(out),
          (e: Error) => e.message.includes(headFile) && e.message.includes(REBUILD_COMMAND),
        );
      });
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
