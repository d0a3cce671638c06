import assert from "node:assert/strict";
import { fuse, type Fused, type Vote } from "../../../lib/classify/fusion.ts";

const scores = (
  violin: number,
  cello: number,
) => [{ label: "violin", score: violin }, { label: "cello", score: cello }];

Deno.test("fuse() averages the voters' probabilities, one vote each", () => {
  const cases: [string, Vote[], Partial<Fused>][] = [
    ["one vote", [{ label: "violin", scores: scores(0.7, 0.3) }], {
      label: "violin",
      score: 0.7,
      voters: 1,
    }],
    ["two agreeing", [{ label: "violin", scores: scores(0.6, 0.4) }, { label: "violin", scores: scores(0.8, 0.2) }], {
      label: "violin",
      score: 0.7,
      scores: scores(0.7, 0.3),
      voters: 2,
    }],
    ["two disagreeing: the mean decides", [
      { label: "violin", scores: scores(0.55, 0.45) },
      { label: "cello", scores: scores(0.1, 0.9) },
    ], { label: "cello", score: 0.675, scores: [{ label: "cello", score: 0.675 }, { label: "violin", score: 0.325 }] }],
    ["an abstaining result does not vote", [
      { label: "violin", scores: scores(0.6, 0.4) },
      { label: null, reason: "silence", scores: scores(0.01, 0.99) },
    ], { label: "violin", score: 0.6, voters: 1 }],
  ];
  for (const [name, votes, expected] of cases) {
    const fused = fuse(votes);
    for (const [key, value] of Object.entries(expected)) {
      assert.deepEqual(fused[key as keyof Fused], value, `${name}: ${key}`);
    }
    assert.equal(fused.reason, undefined, name);
  }
});

Deno.test("fuse() abstains when nothing votes, with the reason they share", () => {
  const cases: [string, Vote[], Fused["reason"]][] = [
    ["all silent", [
      { label: null, reason: "silence", scores: scores(0.5, 0.5) },
      { label: null, reason: "silence", scores: scores(0.3, 0.7) },
    ], "silence"],
    ["silent and unrecognised", [
      { label: null, reason: "silence", scores: scores(0.5, 0.5) },
      { label: null, reason: "no instrument recognised", scores: scores(0.3, 0.7) },
    ], "no instrument recognised"],
  ];
  for (const [name, votes, reason] of cases) {
    const fused = fuse(votes);
    assert.equal(fused.label, null, name);
    assert.equal(fused.score, null, name);
    assert.equal(fused.reason, reason, name);
    assert.equal(fused.voters, 0, name);
    // The scores are still there, for information: the mean over all results.
    assert.deepEqual(fused.scores, [{ label: "cello", score: 0.6 }, { label: "violin", score: 0.4 }], name);
  }
});

Deno.test("fuse() refuses to fuse nothing", () => {
  assert.throws(() => fuse([]), RangeError);
});
