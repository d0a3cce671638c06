import assert from "node:assert/strict";
import { type ForestJson, loadForest } from "../../../lib/classify/forest.ts";

/** Two stumps over 2 features and 3 labels, small enough to check by hand. */
function tinyForest(): ForestJson {
  return {
    format: "amodal-forest/1",
    labels: ["a", "b", "c"],
    nFeatures: 2,
    trees: [
      // x0 <= 0.1 ? leaf {a: 3, b: 1} : leaf {c}
      {
        feature: [0, -1, -1],
        threshold: [0.1, 0, 0],
        left: [1, 0, 2],
        right: [2, 2, 3],
        leafClass: [0, 1, 2],
        leafWeight: [3, 1, 1],
      },
      // x1 <= -2 ? leaf {b} : leaf {a}
      {
        feature: [1, -1, -1],
        threshold: [-2, 0, 0],
        left: [1, 0, 1],
        right: [2, 1, 2],
        leafClass: [1, 0],
        leafWeight: [1, 1],
      },
    ],
  };
}

Deno.test("predictProba() averages per-tree normalised leaf weights", () => {
  const forest = loadForest(tinyForest());
  const cases: [number[], number[]][] = [
    [[0, 0], [(0.75 + 1) / 2, 0.25 / 2, 0]],
    [[0, -3], [0.75 / 2, (0.25 + 1) / 2, 0]],
    [[1, 0], [0.5, 0, 0.5]],
    // Thresholds are float32: float32(0.1) itself goes left, the next float32 goes right.
    [[Math.fround(0.1), 0], [(0.75 + 1) / 2, 0.125, 0]],
    [[0.10000001, 0], [0.5, 0, 0.5]],
  ];
  for (const [x, want] of cases) {
    const got = forest.predictProba(x);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-7, `${x}: ${got} vs ${want}`);
  }
  assert.equal(forest.size, 2);
  assert.deepEqual(forest.labels, ["a", "b", "c"]);
});

Deno.test("predictProba() rejects a vector of the wrong length", () => {
  assert.throws(() => loadForest(tinyForest()).predictProba([1]), RangeError);
});

Deno.test("loadForest() rejects malformed forests", () => {
  const broken: [string, (f: ForestJson) => void, RegExp][] = [
    ["format", (f) => (f as { format: string }).format = "sklearn", /format/],
    ["no trees", (f) => f.trees = [], /trees/],
    ["ragged arrays", (f) => f.trees[0]!.threshold.pop(), /threshold/],
    ["feature out of range", (f) => f.trees[0]!.feature[0] = 5, /feature 5/],
    ["child pointing back", (f) => f.trees[0]!.right[0] = 0, /children/],
    ["leaf range", (f) => f.trees[0]!.right[1] = 9, /leaf range/],
    ["label out of range", (f) => f.trees[0]!.leafClass[0] = 3, /class 3/],
    ["zero weight", (f) => f.trees[0]!.leafWeight[0] = 0, /weight 0/],
  ];
  for (const [name, breakIt, message] of broken) {
    const f = tinyForest();
    breakIt(f);
    assert.throws(() => loadForest(f), (e: Error) => e instanceof SyntaxError && message.test(e.message), name);
  }
});
