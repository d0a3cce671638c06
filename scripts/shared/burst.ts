/**
 * One burst of concurrent uploads against a local service, measured for memory: the peak RSS during
 * the burst (the kernel's high-water mark, reset first) and the RSS a while after it, with every
 * answer checked against what the service promises under memory pressure.
 *
 * @module
 */
import type { LocalServer } from "./local_server.ts";
import type { BurstInput } from "./adversarial_inputs.ts";

/** Options of {@linkcode runBurst}. */
export interface BurstOptions {
  /** Requests in flight at once. */
  concurrency: number;
  /** Requests in all (the inputs in turn). */
  requests: number;
  /** Seconds to wait after the burst before reading RSS again. @default 30 */
  settleSeconds?: number;
  /** Status each input must get when it is not refused (503/413); default 200. */
  expected?: Record<string, number>;
}

/** What one burst measured. */
export interface BurstReport {
  concurrency: number;
  requests: number;
  statuses: Record<string, number>;
  /** Answers that break the promise: a 5xx other than 503, a 503 without Retry-After, a refusal not in problem+json. */
  violations: string[];
  latencyMs: { p50: number; p99: number; max: number };
  rssMiB: { before: number; peak: number; after: number };
  /** (after - before) / before. */
  growth: number;
}

const MIB = 2 ** 20;

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

/**
 * Sends the burst and measures it.
 *
 * @param server The child service.
 * @param url Endpoint to POST to, e.g. `${server.url}/v1/classify`.
 * @param inputs Bodies, sent in turn.
 * @param options Concurrency, request count, settle time, expected statuses.
 * @returns The report.
 */
export async function runBurst(
  server: LocalServer,
  url: string,
  inputs: BurstInput[],
  options: BurstOptions,
): Promise<BurstReport> {
  const before = server.rss() ?? NaN;
  server.resetPeakRss();
  let sampledPeak = before;
  const sampler = setInterval(() => sampledPeak = Math.max(sampledPeak, server.rss() ?? 0), 50);
  const statuses: Record<string, number> = {};
  const violations: string[] = [];
  const latencies: number[] = [];
  let next = 0;
  const client = async () => {
    while (next < options.requests) {
      const input = inputs[next++ % inputs.length]!;
      const t0 = performance.now();
      let key: string;
      try {
        const res = await fetch(url, { method: "POST", body: input.bytes, signal: AbortSignal.timeout(120_000) });
        const type = res.headers.get("content-type") ?? "";
        const body = await res.text();
        key = String(res.status);
        const want = options.expected?.[input.name] ?? 200;
        if (res.status === 503 || res.status === 413) {
          if (type !== "application/problem+json") {
            violations.push(`${res.status} without problem+json for ${input.name}`);
          }
          if (res.status === 503 && !res.headers.get("retry-after")) {
            violations.push(`503 without Retry-After for ${input.name}: ${body.slice(0, 200)}`);
          }
        } else if (res.status !== want) {
          violations.push(`${res.status} (expected ${want}) for ${input.name}: ${body.slice(0, 200)}`);
        }
      } catch (error) {
        key = "network";
        violations.push(`${error} for ${input.name}`);
      }
      latencies.push(performance.now() - t0);
      statuses[key] = (statuses[key] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, client));
  clearInterval(sampler);
  const peak = Math.max(server.peakRss() ?? 0, sampledPeak);
  await new Promise((resolve) => setTimeout(resolve, (options.settleSeconds ?? 30) * 1000));
  const after = server.rss() ?? NaN;
  const sorted = latencies.sort((a, b) => a - b);
  return {
    concurrency: options.concurrency,
    requests: options.requests,
    statuses,
    violations,
    latencyMs: {
      p50: Math.round(quantile(sorted, 0.5)),
      p99: Math.round(quantile(sorted, 0.99)),
      max: Math.round(sorted.at(-1) ?? NaN),
    },
    rssMiB: { before: Math.round(before / MIB), peak: Math.round(peak / MIB), after: Math.round(after / MIB) },
    growth: Math.round((after - before) / before * 1000) / 1000,
  };
}
