/**
 * Warm, one-at-a-time latency of one endpoint and input, with the service's
 * own per-stage split read from its `Server-Timing` header.
 *
 * @module
 */
import { type Percentiles, percentiles, quantile, round2 } from "./stats.ts";

/** Latency of one input. */
export interface LatencyResult {
  /** Client-side request time (upload + processing + response), ms. */
  total: Percentiles;
  /** Median per stage from `Server-Timing` (decode, features, encoder, translator, classifier), ms. */
  stagesP50: Record<string, number>;
  /** Requests that were not 200 (the first one's status and body, if any). */
  errors: number;
  firstError?: string;
}

/**
 * Parses a `Server-Timing` header (`decode;dur=3.10, encoder;dur=20.5`).
 *
 * @param header The header value, or null.
 * @returns Milliseconds by metric name.
 *
 * @example
 * ```ts
 * parseServerTiming("decode;dur=3.1, encoder;dur=20.5"); // {decode: 3.1, encoder: 20.5}
 * ```
 */
export function parseServerTiming(header: string | null): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of (header ?? "").split(",")) {
    const [name, ...params] = part.trim().split(";");
    const dur = params.map((p) => p.trim()).find((p) => p.startsWith("dur="));
    if (name && dur) out[name] = Number(dur.slice(4));
  }
  return out;
}

/** Options for {@linkcode measureLatency}. */
export interface MeasureLatencyOptions {
  /** Unmeasured requests first. @default 5 */
  warmup?: number;
  /** Measured requests (at least `minRuns` within `maxMs`). @default 50 */
  runs?: number;
  /** Stop early after this many ms of measuring, once `minRuns` are done. @default 20_000 */
  maxMs?: number;
  /** @default 10 */
  minRuns?: number;
}

/**
 * POSTs the same body sequentially and summarises client time and stages.
 *
 * @param url Endpoint URL, e.g. `http://127.0.0.1:8000/v1/classify`.
 * @param body The file.
 * @param options Warm-up and run counts.
 * @returns Percentiles of total time and median stage times.
 */
export async function measureLatency(
  url: string,
  body: Uint8Array<ArrayBuffer>,
  options: MeasureLatencyOptions = {},
): Promise<LatencyResult> {
  const { warmup = 5, runs = 50, maxMs = 20_000, minRuns = 10 } = options;
  const totals: number[] = [];
  const stages: Record<string, number[]> = {};
  let errors = 0;
  let firstError: string | undefined;
  const began = performance.now();
  for (let i = 0; i < warmup + runs; i++) {
    const measured = i >= warmup;
    if (measured && totals.length >= minRuns && performance.now() - began > maxMs) break;
    const start = performance.now();
    const res = await fetch(url, { method: "POST", body, headers: { "content-type": "application/octet-stream" } });
    const text = await res.text();
    const elapsed = performance.now() - start;
    if (!res.ok) {
      errors++;
      firstError ??= `${res.status} ${text.slice(0, 200)}`;
      continue;
    }
    if (!measured) continue;
    totals.push(elapsed);
    for (const [name, ms] of Object.entries(parseServerTiming(res.headers.get("server-timing")))) {
      (stages[name] ??= []).push(ms);
    }
  }
  const stagesP50: Record<string, number> = {};
  for (const [name, values] of Object.entries(stages)) stagesP50[name] = round2(quantile(values, 0.5));
  return { total: percentiles(totals), stagesP50, errors, ...(firstError ? { firstError } : {}) };
}
