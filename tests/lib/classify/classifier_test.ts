import assert from "node:assert/strict";
import { loadClassifier } from "../../../lib/classify/classifier.ts";
import { readArtifact } from "../../../lib/joint/artifact.ts";
import { assertHeadParity, committedParity } from "../../scripts/train/parity_helpers.ts";

const MODELS = new URL("../../../models", import.meta.url).pathname;

Deno.test("loadClassifier() picks the reader by format", () => {
  const dense = {
    format: "amodal-dense/1",
    labels: ["a", "b"],
    nFeatures: 1,
    layers: [{ in: 1, out: 2, weight: [1, -1], bias: [0, 0], activation: "softmax" }],
  };
  assert.equal(loadClassifier(JSON.stringify(dense)).labels.length, 2);
  const forest = {
    format: "amodal-forest/1",
    labels: ["a", "b"],
    nFeatures: 1,
    trees: [{ feature: [-1], threshold: [0], left: [0], right: [1], leafClass: [1], leafWeight: [1] }],
  };
  assert.deepEqual(Array.from(loadClassifier(forest).predictProba([0])), [0, 1]);
  assert.throws(() => loadClassifier({ format: "amodal-svm/1" }), /expected one of amodal-forest\/1, amodal-dense\/1/);
});

Deno.test({
  name: "loadClassifier() of the committed head reproduces Python on the whole classify-test split",
  fn: async () => {
    const { manifest, dir } = await committedParity(MODELS);
    const head = loadClassifier(new TextDecoder().decode(await readArtifact(MODELS, manifest.artifacts.head)));
    const rows = await assertHeadParity(head, dir);
    assert.ok(rows > 100, `only ${rows} test rows`);
  },
});
