import assert from "node:assert/strict";
import { createReclaimer } from "../../../lib/worker/reclaim.ts";

Deno.test("createReclaimer() collects once every `every` jobs", () => {
  let collections = 0;
  const reclaimer = createReclaimer({ every: 3, gc: () => collections++ });
  const collected = Array.from({ length: 7 }, () => reclaimer.jobDone());
  assert.deepEqual(collected, [false, false, true, false, false, true, false]);
  assert.equal(collections, 2);
});

Deno.test("createReclaimer() does nothing without a collector", () => {
  const reclaimer = createReclaimer({ every: 1, gc: undefined });
  assert.equal(reclaimer.jobDone(), false);
  assert.throws(() => createReclaimer({ every: 0 }), /every must be a positive integer/);
});
