/**
 * Throughput and tail latency under load with `wrk` (apt package `wrk`):
 * a fixed number of connections each POSTing the next body of a list as soon
 * as the previous answer arrives (closed loop), for a fixed duration.
 *
 * @module
 */
import { join } from "node:path";
import { round2 } from "./stats.ts";

/** What one wrk run measured. */
export interface LoadResult {
  connections: number;
  durationS: number;
  requests: number;
  requestsPerSecond: number;
  /** Requests that did not get a 2xx/3xx, plus socket errors and timeouts. */
  errors: number;
  /** Client-side latency percentiles, ms. */
  latencyMs: { p50: number; p95: number; p99: number; max: number };
}

// Bodies are read once per wrk thread; requests cycle through them in order.
const SCRIPT = `
local bodies = {}
local counter = 0
function init(args)
  for i, path in ipairs(args) do
    local f = assert(io.open(path, "rb"))
    bodies[i] = f:read("*all")
    f:close()
  end
end
function request()
  counter = counter + 1
  local body = bodies[(counter % #bodies) + 1]
  return wrk.format("POST", nil, {["Content-Type"] = "application/octet-stream"}, body)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"errors":%d,"p50":%f,"p95":%f,"p99":%f,"max":%f}\\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
`;

/**
 * Whether `wrk` is on the PATH.
 *
 * @returns True when `wrk --version` runs.
 */
export async function hasWrk(): Promise<boolean> {
  try {
    await new Deno.Command("wrk", { args: ["--version"], stdout: "null", stderr: "null" }).output();
    return true;
  } catch {
    return false;
  }
}

/**
 * Runs wrk with one thread (a second thread would take CPU from the server
 * on a small machine) against `url`, cycling through `bodies`.
 *
 * @param url Endpoint URL.
 * @param bodies Request bodies, used in turn.
 * @param options Connections (concurrency) and duration.
 * @returns Requests per second, errors and latency percentiles.
 * @throws {Error} With wrk's output when it fails or prints no summary.
 */
export async function runWrk(
  url: string,
  bodies: readonly Uint8Array[],
  options: { connections: number; durationS: number },
): Promise<LoadResult> {
  const dir = await Deno.makeTempDir({ prefix: "amodal-wrk-" });
  try {
    const script = join(dir, "mixed.lua");
    await Deno.writeTextFile(script, SCRIPT);
    const paths: string[] = [];
    for (const [i, body] of bodies.entries()) {
      const path = join(dir, `body${i}`);
      await Deno.writeFile(path, body);
      paths.push(path);
    }
    const { code, stdout, stderr } = await new Deno.Command("wrk", {
      args: [
        "-t1",
        `-c${options.connections}`,
        `-d${options.durationS}s`,
        "--timeout",
        "30s",
        "-s",
        script,
        url,
        "--",
        ...paths,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(stdout);
    const line = out.split("\n").find((l) => l.startsWith("WRK_JSON "));
    if (code !== 0 || !line) {
      throw new Error(`wrk failed (exit ${code}): ${out}${new TextDecoder().decode(stderr)}`);
    }
    const r = JSON.parse(line.slice("WRK_JSON ".length));
    const seconds = r.duration_us / 1e6;
    return {
      connections: options.connections,
      durationS: round2(seconds),
      requests: r.requests,
      requestsPerSecond: round2(r.requests / seconds),
      errors: r.errors,
      latencyMs: {
        p50: round2(r.p50 / 1000),
        p95: round2(r.p95 / 1000),
        p99: round2(r.p99 / 1000),
        max: round2(r.max / 1000),
      },
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
