/**
 * Starts the service as a child process, exactly as `deno task start` runs
 * it (same permission flags, read from deno.json), bound to loopback on a
 * free port, for the fuzz and soak scripts. A child rather than in-process so
 * that a crash is observed rather than suffered, and so that its resident
 * memory can be measured on its own.
 *
 * @module
 */
import { join } from "node:path";
import { REPO_ROOT } from "../../lib/config.ts";

/** A running child service. */
export interface LocalServer {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Process id of the child `deno`. */
  pid: number;
  /** Whether the child has exited. */
  exited(): boolean;
  /**
   * The child's resident set size in bytes (workers are its threads), or undefined once it exited. Read from
   * `/proc/<pid>/status`, which Deno lets only `--allow-all` read: the scripts run with `-A`.
   */
  rss(): number | undefined;
  /** The child's peak RSS in bytes since it started or since {@linkcode LocalServer.resetPeakRss}. */
  peakRss(): number | undefined;
  /** Starts a new peak-RSS measurement. */
  resetPeakRss(): void;
  /** The last lines the child wrote to stderr (its error log), for crash reports. */
  stderrTail(): string[];
  /** Sends SIGTERM and waits for the exit. */
  stop(): Promise<void>;
}

/**
 * The flags of the `start` task (`deno run <flags> main.ts`), by default
 * with the listen host replaced by 127.0.0.1 so that the scripts' servers are
 * reachable from this machine only.
 *
 * @param options `loopback: false` keeps the task's own listen host.
 */
export async function startTaskFlags(options: { loopback?: boolean } = {}): Promise<string[]> {
  const { words } = await startTask();
  const flags = words.slice(2, -1);
  if (options.loopback === false) return flags;
  return flags.map((flag) => flag.startsWith("--allow-net=") ? flag.replace("0.0.0.0", "127.0.0.1") : flag);
}

/**
 * The environment the `start` task sets before `deno` (e.g. `MALLOC_MMAP_THRESHOLD_`), so that the
 * scripts' servers run with it too.
 *
 * @returns Variable names and values.
 */
export async function startTaskEnv(): Promise<Record<string, string>> {
  return (await startTask()).env;
}

async function startTask(): Promise<{ env: Record<string, string>; words: string[] }> {
  const config = JSON.parse(await Deno.readTextFile(join(REPO_ROOT, "deno.json")));
  const task: string = config.tasks.start;
  const all = task.split(/\s+/).map((w) => w.replaceAll("'", "").replaceAll('"', ""));
  const env: Record<string, string> = {};
  while (/^[A-Z_][A-Z0-9_]*=/.test(all[0] ?? "")) {
    const [name, ...value] = all.shift()!.split("=");
    env[name!] = value.join("=");
  }
  if (all[0] !== "deno" || all[1] !== "run" || all.at(-1) !== "main.ts") {
    throw new Error(`Cannot read the start task from deno.json: "${task}"`);
  }
  return { env, words: all };
}

/**
 * Starts `main.ts` with `PORT=0` on 127.0.0.1 and waits until it listens.
 *
 * @param env Extra environment (e.g. `AMODAL_REQUEST_TIMEOUT_MS`).
 * @param options `startTimeoutMs` (default 300000: the first start converts the encoders); `entry` and `args`
 *   run another module in place of `main.ts` (a probe that prints the same "listening" line); `allowAll` gives it
 *   `-A` in place of the start task's permissions (the V8 flags are kept).
 * @returns The running child.
 * @throws {Error} With the child's last stderr lines when it fails to start.
 */
export async function startLocalServer(
  env: Record<string, string> = {},
  options: { startTimeoutMs?: number; entry?: string; args?: string[]; allowAll?: boolean } = {},
): Promise<LocalServer> {
  let flags = await startTaskFlags();
  if (options.allowAll) flags = ["-A", "--lock=deno.lock", ...flags.filter((flag) => flag.startsWith("--v8-flags="))];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, options.entry ?? "main.ts", ...options.args ?? []],
    cwd: REPO_ROOT,
    env: { ...await startTaskEnv(), ...env, PORT: "0", AMODAL_HOSTNAME: "127.0.0.1" },
    stdin: "null",
    stdout: "null", // access logs: one line per request, not needed here
    stderr: "piped",
  }).spawn();
  let exited = false;
  const status = child.status.then((s) => {
    exited = true;
    return s;
  });
  const tail: string[] = [];
  let resolveUrl!: (url: string) => void;
  let rejectUrl!: (error: Error) => void;
  const listening = new Promise<string>((res, rej) => {
    resolveUrl = res;
    rejectUrl = rej;
  });
  // Drain stderr for the whole life of the child (a full pipe would block it).
  (async () => {
    let pending = "";
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      pending += chunk;
      const lines = pending.split("\n");
      pending = lines.pop()!;
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        const match = line.match(/amodal listening on (http:\/\/\S+)/);
        if (match) resolveUrl(match[1]!);
      }
    }
  })().catch(() => {});
  status.then((s) =>
    rejectUrl(new Error(`the service exited with code ${s.code} before listening:\n${tail.join("\n")}`))
  );
  const timeoutMs = options.startTimeoutMs ?? 300_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`the service did not listen within ${timeoutMs} ms`)), timeoutMs);
  });
  let url: string;
  try {
    url = await Promise.race([listening, timeout]);
  } catch (error) {
    if (!exited) child.kill("SIGKILL");
    await status;
    throw error;
  } finally {
    clearTimeout(timer);
  }
  return {
    url,
    pid: child.pid,
    exited: () => exited,
    rss() {
      return exited ? undefined : procStatus(child.pid, "VmRSS");
    },
    peakRss() {
      return exited ? undefined : procStatus(child.pid, "VmHWM");
    },
    resetPeakRss() {
      // "5" resets the peak RSS the kernel keeps for the process (proc(5), clear_refs).
      if (!exited) Deno.writeTextFileSync(`/proc/${child.pid}/clear_refs`, "5");
    },
    stderrTail: () => [...tail],
    async stop() {
      if (!exited) child.kill("SIGTERM");
      const timer = setTimeout(() => !exited && child.kill("SIGKILL"), 10_000);
      await status;
      clearTimeout(timer);
    },
  };
}

/** A `kB` field of `/proc/<pid>/status` (e.g. VmRSS, VmHWM) in bytes, or undefined when the process is gone. */
function procStatus(pid: number, field: "VmRSS" | "VmHWM"): number | undefined {
  try {
    const match = Deno.readTextFileSync(`/proc/${pid}/status`).match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"));
    return match ? Number(match[1]) * 1024 : undefined;
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable) throw error; // run the script with -A
    return undefined;
  }
}
