/**
 * Throughput and tail latency under load: `./load_client.ts` in a separate
 * Deno process (no `wrk` or other system tool) keeps a fixed number of
 * keep-alive connections each POSTing the next body of a list as soon as the
 * previous answer arrives (closed loop), for a fixed duration.
 * {@link measureCeiling} runs the same client against an empty Hono route to
 * show how far the generator itself goes.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { REPO_ROOT } from "../../lib/config.ts";
import type { LoadClientOutput } from "./load_client.ts";
import { round2 } from "./stats.ts";

/** What one load run measured. */
export interface LoadResult {
  connections: number;
  durationS: number;
  requests: number;
  requestsPerSecond: number;
  /** Requests answered 4xx/5xx, plus socket errors. */
  errors: number;
  /** Client-side latency percentiles, ms. */
  latencyMs: { p50: number; p95: number; p99: number; max: number };
}

const CLIENT = fileURLToPath(new URL("./load_client.ts", import.meta.url));
const EMPTY_SERVER = fileURLToPath(new URL("./empty_server.ts", import.meta.url));

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * Runs the load client in its own process against `url`, cycling through `bodies`.
 *
 * @param url Endpoint URL.
 * @param bodies Request bodies, used in turn.
 * @param options Connections (concurrency) and duration.
 * @returns Requests per second, errors and latency percentiles.
 * @throws {Error} With the client's stderr when it fails.
 *
 * @example
 * ```ts
 * const r = await runLoad("http://127.0.0.1:8000/v1/classify", [jpeg], { connections: 4, durationS: 10 });
 * ```
 */
export async function runLoad(
  url: string,
  bodies: readonly Uint8Array[],
  options: { connections: number; durationS: number },
): Promise<LoadResult> {
  const dir = await Deno.makeTempDir({ prefix: "amodal-load-" });
  try {
    const paths: string[] = [];
    for (const [i, body] of bodies.entries()) {
      const path = join(dir, `body${i}`);
      await Deno.writeFile(path, body);
      paths.push(path);
    }
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        `--allow-net=${new URL(url).host}`,
        `--allow-read=${dir}`,
        CLIENT,
        url,
        String(options.connections),
        String(options.durationS),
        ...paths,
      ],
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const out = new TextDecoder().decode(stdout).trim().split("\n").at(-1) ?? "";
    if (code !== 0 || !out.startsWith("{")) {
      throw new Error(`load client failed (exit ${code}): ${out}${new TextDecoder().decode(stderr).slice(-2000)}`);
    }
    const r = JSON.parse(out) as LoadClientOutput;
    const l = r.latenciesMs;
    return {
      connections: options.connections,
      durationS: round2(r.seconds),
      requests: r.requests,
      requestsPerSecond: round2(r.requests / r.seconds),
      errors: r.errors,
      latencyMs: {
        p50: round2(percentile(l, 50)),
        p95: round2(percentile(l, 95)),
        p99: round2(percentile(l, 99)),
        max: round2(l.at(-1) ?? 0),
      },
    };
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * The load generator's own ceiling: the same client against an empty Hono
 * route (`./empty_server.ts`, its own process) with `body`.
 *
 * @param body A request body (the bench's largest mixed input, so upload cost is included).
 * @param options Connections and duration.
 * @returns The load result against the empty route.
 */
export async function measureCeiling(
  body: Uint8Array,
  options: { connections: number; durationS: number },
): Promise<LoadResult> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net=127.0.0.1", EMPTY_SERVER],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let text = "";
    while (!/LISTENING \d+/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`empty server exited before listening: ${text}`);
      text += value;
    }
    reader.releaseLock();
    child.stdout.cancel().catch(() => {});
    const port = /LISTENING (\d+)/.exec(text)![1];
    return await runLoad(`http://127.0.0.1:${port}/`, [body], options);
  } finally {
    child.kill();
    await child.status;
  }
}
