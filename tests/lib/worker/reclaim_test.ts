import assert from "node:assert/strict";
import { createByteReclaimer, createReclaimer } from "../../../lib/worker/reclaim.ts";

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

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("createByteReclaimer() collects in a task of its own once enough bytes were released, at most once per interval", async () => {
  let collections = 0;
  const reclaimer = createByteReclaimer({
    thresholdBytes: 100,
    minIntervalMs: 60_000,
    quietMs: 60_000,
    gc: () => collections++,
  });
  assert.equal(reclaimer.released(60), false);
  assert.equal(reclaimer.released(60), true); // 120 >= 100
  assert.equal(collections, 0, "not inside the caller's task");
  assert.equal(reclaimer.released(500), false, "one collection already scheduled");
  await tick();
  assert.equal(collections, 1);
  assert.equal(reclaimer.released(500), false, "within minIntervalMs of the last collection");
  await tick(10);
  assert.equal(collections, 1);
});

Deno.test("createByteReclaimer() collects what is left once releases stop for quietMs", async () => {
  let collections = 0;
  const reclaimer = createByteReclaimer({
    thresholdBytes: 100,
    minIntervalMs: 0,
    quietMs: 20,
    gc: () => collections++,
  });
  assert.equal(reclaimer.released(10), false);
  await tick(5);
  assert.equal(reclaimer.released(10), false, "still under the threshold; the quiet timer starts again");
  await tick(5);
  assert.equal(collections, 0);
  await tick(40);
  assert.equal(collections, 1, "20 bytes left after the last release are collected");
  await tick(40);
  assert.equal(collections, 1, "nothing is pending any more");
});

Deno.test("createByteReclaimer() collects again after the interval and does nothing without a collector", async () => {
  let collections = 0;
  const reclaimer = createByteReclaimer({ thresholdBytes: 10, minIntervalMs: 0, gc: () => collections++ });
  for (let i = 0; i < 3; i++) {
    assert.equal(reclaimer.released(10), true);
    await tick(1);
  }
  assert.equal(collections, 3);
  assert.equal(createByteReclaimer({ gc: undefined }).released(2 ** 30), false);
});
