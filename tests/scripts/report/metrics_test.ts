/**
 * scripts/report/metrics.py: NDCG@k with graded relevance on hand-made rankings, the exact
 * random-order expectation, class-balanced curve batches, centroid distances.
 */
import assert from "node:assert/strict";
import { py, pythonHas } from "./_python.ts";

const ready = await pythonHas("numpy, sklearn");

const near = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} != ${b}`);
const L3 = Math.log2(3);

// Two labels, relevance 1 to itself and 0.5 to the other (a sibling in the ontology).
const REL = "np.array([[1.0, 0.5], [0.5, 1.0]])";
const ndcgCases: { name: string; sim: number[]; cand: number[]; k: number; want: number | null }[] = [
  { name: "perfect order", sim: [0.9, 0.5, 0.1], cand: [0, 1, 1], k: 30, want: 1 },
  {
    name: "graded gains: sibling first, match second",
    sim: [0.9, 0.8, 0.1],
    cand: [1, 0, 1],
    k: 30,
    // DCG = 0.5/1 + 1/log2(3) + 0.5/2; ideal = 1/1 + 0.5/log2(3) + 0.5/2
    want: (0.5 + 1 / L3 + 0.25) / (1 + 0.5 / L3 + 0.25),
  },
  { name: "cut-off k = 1", sim: [0.9, 0.8, 0.1], cand: [1, 0, 1], k: 1, want: 0.5 },
  { name: "ties keep candidate order", sim: [0.5, 0.5], cand: [1, 0], k: 30, want: (0.5 + 1 / L3) / (1 + 0.5 / L3) },
  { name: "k above the candidate count", sim: [0.1, 0.9], cand: [0, 1], k: 100, want: (0.5 + 1 / L3) / (1 + 0.5 / L3) },
];

for (const c of ndcgCases) {
  Deno.test({
    name: `ndcg_at_k() ${c.name}`,
    ignore: !ready,
    fn: async () => {
      const got = await py(`import numpy as np, metrics as M
v = M.ndcg_at_k(np.array([${JSON.stringify(c.sim)}]), [0], ${JSON.stringify(c.cand)}, ${REL}, ${c.k})
print(json.dumps([None if np.isnan(x) else float(x) for x in v]))`) as (number | null)[];
      near(got[0]!, c.want!);
    },
  });
}

Deno.test({
  name: "ndcg_at_k() gives NaN when no candidate is relevant, and scores each query row",
  ignore: !ready,
  fn: async () => {
    const got = await py(`import numpy as np, metrics as M
rel = np.eye(3)
v = M.ndcg_at_k(np.array([[0.9, 0.1], [0.2, 0.8]]), [2, 1], [0, 1], rel, 30)
print(json.dumps([None if np.isnan(x) else float(x) for x in v]))`) as (number | null)[];
    assert.equal(got[0], null);
    near(got[1]!, 1);
  },
});

Deno.test({
  name: "random_ndcg_at_k() equals the mean over every ordering",
  ignore: !ready,
  fn: async () => {
    const [exact, brute] = await py(`import itertools, numpy as np, metrics as M
rel = np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.25], [0.0, 0.25, 1.0]])
cand = np.array([0, 1, 2, 2, 1])
vals = []
for perm in itertools.permutations(range(5)):
    sim = np.zeros((1, 5)); sim[0, list(perm)] = np.arange(5, 0, -1)
    vals.append(M.ndcg_at_k(sim, [0], cand, rel, 3)[0])
print(json.dumps([float(M.random_ndcg_at_k([0], cand, rel, 3)[0]), float(np.mean(vals))]))`) as number[];
    near(exact!, brute!, 1e-12);
  },
});

Deno.test({
  name: "balanced_take() gives nested class-balanced batches capped at each label's size",
  ignore: !ready,
  fn: async () => {
    const got = await py(`import numpy as np, metrics as M
y = np.array([0]*5 + [1]*2 + [2]*8)
order = M.balanced_order(y, np.random.default_rng(1))
steps = M.curve_steps(order, (1, 2, 5, 10))
batches = [M.balanced_take(order, k) for k in steps]
print(json.dumps({"steps": steps,
  "counts": [[int((y[b] == l).sum()) for l in range(3)] for b in batches],
  "nested": all(set(a) <= set(b) for a, b in zip(batches, batches[1:])),
  "again": M.balanced_take(M.balanced_order(y, np.random.default_rng(1)), 2).tolist() == batches[2].tolist()}))`) as {
      steps: number[];
      counts: number[][];
      nested: boolean;
      again: boolean;
    };
    assert.deepEqual(got.steps, [0, 1, 2, 5, 8]);
    assert.deepEqual(got.counts, [[0, 0, 0], [1, 1, 1], [2, 2, 2], [5, 2, 5], [5, 2, 8]]);
    assert.ok(got.nested, "each batch contains the previous one");
    assert.ok(got.again, "same seed, same batches");
  },
});

Deno.test({
  name: "centroids() and cosine_distance_matrix() on hand-made clusters",
  ignore: !ready,
  fn: async () => {
    const got = await py(`import numpy as np, metrics as M
x = np.array([[1, 0], [3, 0], [0, 2], [0, 4], [1, 1]])
names, c = M.centroids(x, ["a", "a", "b", "b", "c"])
print(json.dumps({"names": names, "c": c.tolist(), "d": M.cosine_distance_matrix(c).round(6).tolist()}))`) as {
      names: string[];
      c: number[][];
      d: number[][];
    };
    assert.deepEqual(got.names, ["a", "b", "c"]);
    assert.deepEqual(got.c, [[2, 0], [0, 3], [1, 1]]);
    near(got.d[0]![1]!, 1, 1e-6);
    near(got.d[0]![2]!, 1 - Math.SQRT1_2, 1e-6);
    near(got.d[1]![1]!, 0, 1e-6);
  },
});

Deno.test({
  name: "macro_f1() averages per-label F1 over the given labels only",
  ignore: !ready,
  fn: async () => {
    const [mf, per] = await py(`import metrics as M
print(json.dumps(M.macro_f1([0, 0, 1, 1], [0, 1, 1, 2], [0, 1])))`) as [number, number[]];
    // label 0: P 1, R 0.5 -> 2/3; label 1: P 0.5, R 0.5 -> 0.5; label 2 (a wrong prediction) not averaged
    near(per[0]!, 2 / 3);
    near(per[1]!, 0.5);
    near(mf, (2 / 3 + 0.5) / 2);
  },
});
