import assert from "node:assert/strict";
import { ResultCache } from "../../../lib/http/result_cache.ts";

Deno.test("ResultCache keeps the summed size under its bound, evicting least recently used first", () => {
  const cache = new ResultCache<string>(100);
  cache.set("a", "A", 40);
  cache.set("b", "B", 40);
  assert.equal(cache.get("a"), "A"); // a is now the most recently used
  cache.set("c", "C", 40); // evicts b
  assert.equal(cache.get("b"), undefined);
  assert.equal(cache.get("a"), "A");
  assert.equal(cache.get("c"), "C");
  assert.equal(cache.bytes, 80);
  assert.equal(cache.set("huge", "H", 101), false, "an entry over the whole bound is not stored");
  assert.equal(cache.size, 2, "and evicts nothing");
  cache.set("a", "A2", 10); // replacing an entry releases its old size
  assert.equal(cache.bytes, 50);
});

Deno.test("ResultCache with a 0 bound stores nothing", () => {
  const cache = new ResultCache<number>(0);
  assert.equal(cache.set("a", 1, 1), false);
  assert.equal(cache.get("a"), undefined);
});

Deno.test("ResultCache under a flood of distinct keys never holds more than its bound", () => {
  const cache = new ResultCache<number>(10_000);
  for (let i = 0; i < 5_000; i++) {
    cache.set(`k${i}`, i, 1 + (i % 97));
    assert.ok(cache.bytes <= 10_000);
  }
  assert.equal(cache.get("k4999"), 4999);
});
