import assert from "node:assert/strict";
import { createByteReclaimer, createReclaimer } from "../../../lib/worker/reclaim.ts";

const tick = (ms = 0) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("createReclaimer() collects once every `every` jobs, in a task of its own", async () => {
  let collections = 0;
  const reclaimer = createReclaimer({ every: 3, external: () => 0, gc: () => collections++ });
  const collected = [];
  for (let i = 0; i < 7; i++) {
    collected.push(reclaimer.jobDone());
    if (i === 2) assert.equal(collections, 0, "not inside the job's task");
    await tick();
  }
  assert.deepEqual(collected, [false, false, true, false, false, true, false]);
  assert.equal(collections, 2);
});

Deno.test("createReclaimer() collects after a job that left enough external memory, measured from the last collection", async () => {
  let external = 10;
  let collections = 0;
  const reclaimer = createReclaimer({
    every: 100,
    externalBytes: 50,
    external: () => external,
    gc: () => {
      collections++;
      external -= 45; // what the collection freed
    },
  });
  const after = async (grown: number) => {
    external += grown;
    const scheduled = reclaimer.jobDone();
    await tick();
    return scheduled;
  };
  assert.deepEqual([await after(20), await after(20), await after(20)], [false, false, true]); // 70 - 10 >= 50
  assert.equal(collections, 1);
  // The floor is what survived the collection (25), not the starting 10.
  assert.deepEqual([await after(40), await after(10)], [false, true]);
  assert.equal(collections, 2);
});

Deno.test("createReclaimer() collects when a job forces it, once per task", async () => {
  let collections = 0;
  const reclaimer = createReclaimer({ every: 100, external: () => 0, gc: () => collections++ });
  assert.equal(reclaimer.jobDone(true), true);
  assert.equal(reclaimer.jobDone(true), false, "one collection is already scheduled");
  await tick();
  assert.equal(collections, 1);
});

Deno.test("createReclaimer() does nothing without a collector", () => {
  const reclaimer = createReclaimer({ every: 1, gc: undefined });
  assert.equal(reclaimer.jobDone(), false);
  assert.throws(() => createReclaimer({ every: 0 }), /every must be a positive integer/);
});

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
