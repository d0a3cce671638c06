/**
 * End-to-end `deno task report --smoke`: the training smoke slice through every experiment, into a
 * temp folder; checks that report.md, the figures, metrics.json and the headline file are written.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { PYTHON, pythonHas } from "./_python.ts";

const REPO = fileURLToPath(new URL("../../../", import.meta.url));
const ready = await pythonHas("torch, sklearn, onnx, matplotlib");

const FIGURES = [
  "ndcg_pairs.png",
  "classifiers.png",
  "zero_shot_curves.png",
  "half_label.png",
  "centroid_distances.png",
  "per_label_f1.png",
  "confusion.png",
  "translation_labels.png",
];

Deno.test({
  name: "deno task report --smoke writes report.md, figures, metrics.json and headline metrics",
  ignore: !ready,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const out = await Deno.makeTempDir({ prefix: "amodal-report-smoke-" });
    try {
      const run = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", join(REPO, "scripts/report/main.ts"), "--smoke", "--out", out],
        cwd: REPO,
        env: { AMODAL_PYTHON: PYTHON },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const log = new TextDecoder().decode(run.stdout) + new TextDecoder().decode(run.stderr);
      assert.ok(run.success, log.slice(-3000));
      const metrics = JSON.parse(await Deno.readTextFile(join(out, "metrics.json")));
      const report = await Deno.readTextFile(join(out, "report.md"));

      await t.step("metrics.json holds every experiment", () => {
        assert.equal(metrics.format, "amodal-report/1");
        assert.deepEqual(Object.keys(metrics.pairs.pairs).sort(), [
          "log_mel_stats+mobilenet_v2",
          "yamnet+mobilenet_v2",
        ]);
        const pair = metrics.pairs.pairs["yamnet+mobilenet_v2"];
        for (const k of ["ndcg_a2i", "ndcg_i2a"]) {
          assert.equal(pair[k].n, 2, `${k} over 2 seeds`);
          assert.ok(pair[k].mean >= 0 && pair[k].mean <= 1, k);
        }
        assert.ok(pair.random_a2i > 0 && pair.random_a2i < 1);
        for (const n of ["SMA", "MMP", "MMT"]) assert.ok(metrics.classifiers.table[n].audio, n);
        assert.ok(metrics.curves.zero_shot.photo.fraction_of_best.mean !== null);
        assert.equal(metrics.curves.photo["1234"].MMT[0].items, 0, "curves start at zero-shot");
        assert.ok(metrics.half_label.summary["half/audio->photo/unpaired"]);
        assert.deepEqual(metrics.off_the_shelf.audio.covered.length, 18);
        assert.ok(metrics.spaces.joint.distance.length > 0);
      });

      await t.step("report.md links every figure, each a real PNG", async () => {
        for (const f of FIGURES) {
          assert.ok(report.includes(`](${f})`), `report.md shows ${f}`);
          const bytes = await Deno.readFile(join(out, f));
          assert.deepEqual([...bytes.subarray(1, 4)], [0x50, 0x4e, 0x47], `${f} is a PNG`);
          assert.ok(bytes.length > 10_000, `${f} has content`);
        }
        for (
          const heading of [
            "## 1. Which embedding pair",
            "## 2. Translation vs PCA",
            "## 3. Off-the-shelf",
            "## 5. Held out",
          ]
        ) {
          assert.ok(report.includes(heading), heading);
        }
        assert.match(report, /npx --yes deno@2\.9\.6 task report --smoke/);
      });

      await t.step("headline metrics for /v1/models", async () => {
        const h = JSON.parse(await Deno.readTextFile(join(out, "models-metrics.json")));
        assert.equal(h.format, "amodal-report-metrics/1");
        assert.equal(h.encoders, "yamnet+mobilenet_v2");
        assert.ok(h.macroF1.MMT.audio.mean >= 0);
        assert.ok(h.retrievalNdcg30.audioToImage.mean >= 0);
      });
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
