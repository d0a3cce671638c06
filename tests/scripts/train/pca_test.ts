import assert from "node:assert/strict";
import { join } from "node:path";
import { loadPca } from "../../../scripts/train/pca.ts";
import { readArtifact } from "../../../lib/joint/artifact.ts";
import { assertPcaParity, committedParity } from "./parity_helpers.ts";

const REPO = new URL("../../../", import.meta.url).pathname;

const TINY = {
  format: "amodal-pca/1",
  audio: { dim_in: 3, dim: 2, mean: [1, 2, 3], components: [1, 0, 0, 0, 0.5, 0.5] },
};

Deno.test("project() centres and projects onto the components", () => {
  const pca = loadPca(TINY, "audio");
  const cases: [number[], number[]][] = [
    [[1, 2, 3], [0, 0]],
    [[2, 2, 3], [1, 0]],
    [[1, 4, 5], [0, 2]],
  ];
  for (const [x, want] of cases) assert.deepEqual(Array.from(pca.project(x)), want);
  assert.throws(() => pca.project([1, 2]), RangeError);
});

Deno.test("loadPca() rejects a wrong format or sizes", () => {
  const cases: [unknown, "audio" | "image", RegExp][] = [
    [{ ...TINY, format: "x" }, "audio", /format/],
    [TINY, "image", /image/],
    [{ ...TINY, audio: { ...TINY.audio, mean: [1, 2] } }, "audio", /mean 2/],
    [{ ...TINY, audio: { ...TINY.audio, components: [1] } }, "audio", /components 1/],
  ];
  for (const [json, modality, message] of cases) {
    assert.throws(() => loadPca(json, modality), (e: Error) => e instanceof SyntaxError && message.test(e.message));
  }
});

Deno.test({
  name: "project() matches numpy for the committed PCA",
  fn: async () => {
    const found = await committedParity(join(REPO, "models"));
    const text = new TextDecoder().decode(await readArtifact(join(REPO, "models"), found.manifest.artifacts.pca));
    for (const modality of ["audio", "image"] as const) {
      await assertPcaParity(loadPca(text, modality), found.dir, modality);
    }
  },
});
