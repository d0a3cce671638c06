import assert from "node:assert/strict";
import { type DenseHeadJson, loadDenseHead } from "../../../lib/classify/dense_head.ts";

/** 2 features -> 2 ReLU units -> 3 labels, small enough to check by hand. */
function tinyMlp(): DenseHeadJson {
  return {
    format: "amodal-dense/1",
    labels: ["a", "b", "c"],
    nFeatures: 2,
    layers: [
      // h0 = relu(x0 - x1), h1 = relu(x1 + 1)
      { in: 2, out: 2, weight: [1, -1, 0, 1], bias: [0, 1], activation: "relu" },
      // logits = [h0, h1, 0]
      { in: 2, out: 3, weight: [1, 0, 0, 1, 0, 0], bias: [0, 0, 0], activation: "softmax" },
    ],
  };
}

function softmax(z: number[]): number[] {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

Deno.test("predictProba() applies ReLU layers then softmax", () => {
  const head = loadDenseHead(tinyMlp());
  const cases: [number[], number[]][] = [
    [[0, 0], softmax([0, 1, 0])],
    [[3, 1], softmax([2, 2, 0])],
    [[-1, -5], softmax([4, 0, 0])],
    // Large logits do not overflow: the largest is subtracted first.
    [[2000, 0], [1, 0, 0]],
  ];
  for (const [x, want] of cases) {
    const got = head.predictProba(x);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-7, `${x}: ${got} vs ${want}`);
  }
  assert.deepEqual(head.labels, ["a", "b", "c"]);
  assert.equal(head.nFeatures, 2);
});

Deno.test("predictProba() of a one-layer head is multinomial logistic regression", () => {
  const head = loadDenseHead({
    format: "amodal-dense/1",
    labels: ["x", "y"],
    nFeatures: 1,
    layers: [{ in: 1, out: 2, weight: [1, -1], bias: [0.5, 0], activation: "softmax" }],
  });
  const p = head.predictProba([2]);
  assert.ok(Math.abs(p[0]! - 1 / (1 + Math.exp(-(2.5 + 2)))) < 1e-7);
});

Deno.test("predictProba() rejects a vector of the wrong length", () => {
  assert.throws(() => loadDenseHead(tinyMlp()).predictProba([1, 2, 3]), RangeError);
});

Deno.test("loadDenseHead() rejects malformed heads", () => {
  const cases: [string, (h: DenseHeadJson) => unknown][] = [
    ["format", (h) => ({ ...h, format: "amodal-forest/1" })],
    ["labels", (h) => ({ ...h, labels: [] })],
    ["layers", (h) => ({ ...h, layers: [] })],
    ["in", (h) => ({ ...h, nFeatures: 3 })],
    ["weight", (h) => ({ ...h, layers: [{ ...h.layers[0]!, weight: [1] }, h.layers[1]] })],
    ["bias", (h) => ({ ...h, layers: [h.layers[0], { ...h.layers[1]!, bias: [0] }] })],
    ["activation", (h) => ({ ...h, layers: [{ ...h.layers[0]!, activation: "softmax" }, h.layers[1]] })],
    ["outputs", (h) => ({ ...h, labels: ["a", "b"] })],
  ];
  for (const [what, make] of cases) {
    assert.throws(() => loadDenseHead(make(tinyMlp())), SyntaxError, what);
  }
});
