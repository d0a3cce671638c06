import assert from "node:assert/strict";
import { InflightBudget } from "../../../lib/http/inflight_budget.ts";
import { ProblemError } from "../../../lib/errors.ts";

async function refusal(promise: Promise<unknown>): Promise<ProblemError> {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(error instanceof ProblemError, `expected a ProblemError, got ${error}`);
  return error;
}

Deno.test("InflightBudget.take() counts bytes and give() returns them", async () => {
  const budget = new InflightBudget({ capacity: 100 });
  await budget.take(60);
  assert.equal(budget.tryTake(50), false, "60 + 50 is over 100");
  assert.equal(budget.tryTake(40), true);
  assert.equal(budget.used, 100);
  budget.give(40);
  budget.give(60);
  assert.equal(budget.used, 0);
  assert.throws(() => budget.give(1), RangeError);
});

Deno.test("InflightBudget.take() grants a reservation over the capacity only when nothing is held", async () => {
  const budget = new InflightBudget({ capacity: 100, maxWaitMs: 50 });
  await budget.take(500);
  assert.equal(budget.used, 500);
  const second = await refusal(budget.take(1));
  assert.equal(second.status, 503);
  budget.give(500);
  assert.equal(budget.used, 0);
});

Deno.test("InflightBudget.take() waits first come first served and is granted when room frees", async () => {
  const budget = new InflightBudget({ capacity: 100, maxWaitMs: 5_000 });
  await budget.take(80);
  const order: string[] = [];
  const big = budget.take(70).then(() => order.push("big"));
  const small = budget.take(10).then(() => order.push("small"));
  assert.equal(budget.waiting, 2, "the small one waits behind the big one although it would fit");
  budget.give(80);
  await Promise.all([big, small]);
  assert.deepEqual(order, ["big", "small"]);
  assert.equal(budget.used, 80);
  budget.give(80);
  assert.equal(budget.used, 0);
});

Deno.test("InflightBudget.take() refuses with 503 + Retry-After", async (t) => {
  const cases = [
    { name: "after maxWaitMs", options: { maxWaitMs: 20 }, detail: /no room came within 20 ms/ },
    { name: "at once when maxWaiters wait", options: { maxWaiters: 0 }, detail: /0 requests are already waiting/ },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const budget = new InflightBudget({ capacity: 10, ...c.options });
      await budget.take(10);
      const error = await refusal(budget.take(5));
      assert.equal(error.status, 503);
      assert.equal(error.headers["retry-after"], "1");
      assert.match(error.message, c.detail);
      assert.equal(budget.waiting, 0);
      budget.give(10);
      assert.equal(budget.used, 0);
    });
  }
});

Deno.test("InflightBudget.take() stops waiting when its signal aborts, holding nothing", async () => {
  const budget = new InflightBudget({ capacity: 10 });
  await budget.take(10);
  const controller = new AbortController();
  const waiting = budget.take(5, controller.signal);
  const after = budget.take(5);
  controller.abort(new Error("client went away"));
  await assert.rejects(waiting, /client went away/);
  budget.give(10);
  await after;
  assert.equal(budget.used, 5, "the next waiter got the room");
  budget.give(5);
});
