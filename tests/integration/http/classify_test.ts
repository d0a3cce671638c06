import assert from "node:assert/strict";
import { join } from "node:path";
import { LABELS } from "../../../lib/labels.ts";
import { post, serverTest, SHARED, startTestService } from "./_service.ts";

const corpus = join(SHARED, "corpus");
const files = (dir: string, n: number) =>
  Array.from(Deno.readDirSync(join(corpus, dir))).map((e) => join(corpus, dir, e.name)).sort().slice(0, n);

Deno.test("POST /v1/classify classifies real sounds and photos with the deployed model", serverTest, async (t) => {
  const service = await startTestService();
  const classify = `${service.url}/v1/classify`;
  try {
    await t.step("a photo: all 18 labels scored, sorted, summing to 1", async () => {
      const res = await post(classify, await Deno.readFile(files("images/gpiosenka/violin", 1)[0]!));
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.modality, "image");
      const scores = res.json.scores as { label: string; score: number }[];
      assert.deepEqual(scores.map((s) => s.label).sort(), [...LABELS]);
      for (let i = 1; i < scores.length; i++) assert.ok(scores[i - 1]!.score >= scores[i]!.score);
      assert.ok(Math.abs(scores.reduce((a, s) => a + s.score, 0) - 1) < 1e-3);
      assert.equal(res.json.label, scores[0]!.label);
      assert.equal(res.json.score, scores[0]!.score);
      assert.match(String(res.json.model), /^mmt-/);
      assert.match(res.headers.get("server-timing") ?? "", /translator;dur=.*classifier;dur=.*presence;dur=/);
    });

    await t.step("?top_k trims the scores", async () => {
      const res = await post(`${classify}?top_k=3`, await Deno.readFile(files("images/jray/banjo", 1)[0]!));
      assert.equal(res.status, 200);
      assert.equal((res.json.scores as unknown[]).length, 3);
    });

    await t.step("photos and recordings of a violin are mostly called violin", async () => {
      const inputs = [...files("images/gpiosenka/violin", 4), ...files("audio/iowa_pitchfinder/violin", 4)];
      const labels = [];
      for (const path of inputs) {
        const res = await post(classify, await Deno.readFile(path));
        assert.equal(res.status, 200, JSON.stringify(res.json));
        labels.push(res.json.label);
      }
      const correct = labels.filter((l) => l === "violin").length;
      assert.ok(correct >= 5, `violin for ${correct} of 8: ${labels.join(", ")}`);
    });

    await t.step("/v1/embed defaults to the 128-d unit-length joint space", async () => {
      const res = await post(`${service.url}/v1/embed`, await Deno.readFile(files("audio/gtown/drums", 1)[0]!));
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.space, "joint");
      assert.equal(res.json.dim, 128);
      const norm = Math.hypot(...(res.json.embedding as number[]));
      assert.ok(Math.abs(norm - 1) < 1e-4, `norm ${norm}`);
    });

    await t.step("/v1/labels and /v1/models describe the deployed model", async () => {
      const labels = await (await fetch(`${service.url}/v1/labels`)).json();
      assert.deepEqual(labels.labels, [...LABELS]);
      const models = await (await fetch(`${service.url}/v1/models`)).json();
      assert.equal(models.encoders.length, 2);
      assert.match(models.joint.version, /^mmt-/);
      assert.ok(models.joint.artifacts.head.sha256);
    });
  } finally {
    await service.close();
  }
});
