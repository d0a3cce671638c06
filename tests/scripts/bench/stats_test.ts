import assert from "node:assert/strict";
import { percentiles, quantile } from "../../../scripts/bench/stats.ts";
import { parseServerTiming } from "../../../scripts/bench/http_latency.ts";

Deno.test("quantile() interpolates between closest ranks", () => {
  const cases: [number[], number, number][] = [
    [[4, 1, 3, 2], 0.5, 2.5],
    [[5], 0.99, 5],
    [[1, 2, 3, 4, 5], 0, 1],
    [[1, 2, 3, 4, 5], 1, 5],
    [[10, 20], 0.95, 19.5],
  ];
  for (const [samples, q, expected] of cases) assert.equal(quantile(samples, q), expected);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

Deno.test("percentiles() summarises samples rounded to 0.01", () => {
  const samples = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.deepEqual(percentiles(samples), { min: 1, p50: 50.5, p95: 95.05, p99: 99.01, n: 100 });
});

Deno.test("parseServerTiming() reads dur per metric", () => {
  const cases: [string | null, Record<string, number>][] = [
    ["decode;dur=3.10, encoder;dur=20.5", { decode: 3.1, encoder: 20.5 }],
    ['features;desc="log-mel";dur=1', { features: 1 }],
    ["cache", {}],
    [null, {}],
  ];
  for (const [header, expected] of cases) assert.deepEqual(parseServerTiming(header), expected);
});
