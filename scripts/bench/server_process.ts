/**
 * The service as a child process (`deno run main.ts`), so the benchmark
 * measures what a deployment runs: start-up included, and the whole
 * process's memory (workers are threads of it) read from `/proc`.
 *
 * @module
 */
import { join } from "node:path";
import { REPO_ROOT } from "../../lib/config.ts";
import { startTaskFlags } from "../shared/local_server.ts";

/** A running service process. */
export interface ServerProcess {
  /** Base URL, e.g. `http://127.0.0.1:8123`. */
  url: string;
  pid: number;
  /** Milliseconds from spawn to the first successful probe request. */
  coldStartMs: number;
  /** Peak resident memory of the process so far (`VmHWM`), in MB, or NaN off Linux. */
  peakRssMb(): number;
  /** Current resident memory (`VmRSS`), in MB. */
  rssMb(): number;
  /** Stops the process (SIGTERM, then SIGKILL) and waits for it. */
  close(): Promise<void>;
}

/** Options for {@linkcode startServer}. */
export interface StartServerOptions {
  /** Extra environment (`AMODAL_*`). */
  env?: Record<string, string>;
  /** Request that must succeed before the server counts as started. */
  probe: { path: string; body: Uint8Array<ArrayBuffer> };
  /** Give up after this long. @default 120_000 */
  timeoutMs?: number;
  /** Cache folder (`AMODAL_CACHE_DIR`; the start task may write only under `.cache`). @default ".cache" */
  cacheDir?: string;
  /** Module to run: `main.ts` (`deno run`) or `serve.ts` (`deno serve --port`). @default "main.ts" */
  entry?: "main.ts" | "serve.ts";
  /** Repository to run the service from (comparisons with another checkout). @default REPO_ROOT */
  root?: string;
  /** Grant FFI (needed for `AMODAL_BACKEND=node`). @default false */
  allowFfi?: boolean;
}

function statusField(pid: number, field: string): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const kb = Number(status.match(new RegExp(`^${field}:\\s*(\\d+)`, "m"))?.[1]);
    return Math.round(kb / 1024 * 10) / 10;
  } catch {
    return NaN;
  }
}

/** A port that was free a moment ago, for a child server that cannot report the one it got. */
function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * Spawns the service with the permissions of `deno task start` (plus
 * `--allow-ffi` when asked), listening on all interfaces as it ships, and waits
 * until a real request succeeds (a 200 from `probe`), polling every 10 ms.
 *
 * @param options Environment, probe request and limits.
 * @returns The running process with its measured cold start.
 * @throws {Error} With the tail of the server's stderr when it exits or does not answer in time.
 */
export async function startServer(options: StartServerOptions): Promise<ServerProcess> {
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const cacheDir = options.cacheDir ?? ".cache";
  const args = options.entry === "serve.ts"
    ? ["serve", `--port=${port}`, ...await startTaskFlags({ loopback: false }), "serve.ts"]
    : ["run", ...await startTaskFlags({ loopback: false }), "main.ts"];
  // --allow-ffi is for onnxruntime-node, which deno.lock locks (serve.lock, the default, holds only what serves on
  // the WASM backend).
  if (options.allowFfi) args.splice(1, 0, "--allow-ffi", `--lock=${join(REPO_ROOT, "deno.lock")}`);
  const start = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.root ?? REPO_ROOT,
    // The result cache off: the bench sends the same files again and again and measures inference, not memory.
    env: { PORT: String(port), AMODAL_CACHE_DIR: cacheDir, AMODAL_CACHE_BYTES: "0", ...options.env },
    stdout: "null",
    stderr: "piped",
  }).spawn();
  let stderr = "";
  const reader = (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of child.stderr) stderr = (stderr + decoder.decode(chunk)).slice(-4000);
  })();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const deadline = start + (options.timeoutMs ?? 120_000);
  const fail = async (why: string): Promise<never> => {
    if (!exited) child.kill("SIGKILL");
    await status;
    await reader;
    throw new Error(`Server did not start (${why}); stderr tail:\n${stderr}`);
  };
  let coldStartMs = NaN;
  while (performance.now() < deadline) {
    if (exited) await fail(`exited with code ${(await status).code}`);
    try {
      const res = await fetch(url + options.probe.path, { method: "POST", body: options.probe.body });
      await res.body?.cancel();
      if (res.ok) {
        coldStartMs = performance.now() - start;
        break;
      }
      if (res.status !== 503) await fail(`probe answered ${res.status}`);
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  if (Number.isNaN(coldStartMs)) await fail(`no answer within ${options.timeoutMs ?? 120_000} ms`);
  return {
    url,
    pid: child.pid,
    coldStartMs,
    peakRssMb: () => statusField(child.pid, "VmHWM"),
    rssMb: () => statusField(child.pid, "VmRSS"),
    async close() {
      if (!exited) child.kill("SIGTERM");
      const timer = setTimeout(() => !exited && child.kill("SIGKILL"), 5000);
      await status;
      clearTimeout(timer);
      await reader;
    },
  };
}
