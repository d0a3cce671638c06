/**
 * What `deno task classify` and `deno task embed` share: argument parsing, expanding folders into
 * files, a progress line with rate and ETA, and the two ways to run a file (the pipeline in this
 * process, or a running service at `--url`).
 *
 * @module
 */
import { join } from "node:path";
import { loadConfig } from "../../lib/config.ts";
import { ProblemError } from "../../lib/errors.ts";
import { type ClassifyResult, type EmbedResult, Pipeline } from "../../lib/pipeline.ts";
import { ensureEncoders } from "../../lib/weights/ensure_encoders.ts";
import { fromFloat32Base64 } from "../../lib/http/float32.ts";

/** One input named on the command line, or found in a folder named there. */
export interface Input {
  path: string;
  /** True when it came from a folder (progress is shown then). */
  fromFolder: boolean;
}

/**
 * Expands paths: files as given, folders recursively (sorted, hidden entries skipped).
 *
 * @param paths Command-line paths.
 * @returns The inputs, and the paths that could not be read at all.
 */
export async function expandInputs(paths: string[]): Promise<{ inputs: Input[]; unreadable: string[] }> {
  const inputs: Input[] = [];
  const unreadable: string[] = [];
  async function walk(dir: string): Promise<void> {
    const entries = [];
    for await (const entry of Deno.readDir(dir)) if (!entry.name.startsWith(".")) entries.push(entry);
    entries.sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory) await walk(path);
      else if (entry.isFile) inputs.push({ path, fromFolder: true });
    }
  }
  for (const path of paths) {
    try {
      const stat = await Deno.stat(path);
      if (stat.isDirectory) await walk(path);
      else inputs.push({ path, fromFolder: false });
    } catch {
      unreadable.push(path);
    }
  }
  return { inputs, unreadable };
}

/** Parsed `--flag value` / `--flag` options and positional arguments. */
export function parseArgs(
  args: string[],
  spec: { flags: string[]; values: string[] },
): { options: Record<string, string | true>; positional: string[] } {
  const options: Record<string, string | true> = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("--")) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.slice(2).split(/=(.*)/s) as [string, string | undefined];
    if (spec.flags.includes(name)) options[name] = true;
    else if (spec.values.includes(name)) {
      const value = inline ?? args[++i];
      if (value === undefined) throw new TypeError(`--${name} needs a value`);
      options[name] = value;
    } else throw new TypeError(`Unknown option --${name}`);
  }
  return { options, positional };
}

/**
 * A progress line on stderr: done/total, files per second and time left. Redrawn at most every 200 ms on a
 * terminal; elsewhere one line per 10 %.
 *
 * @param total Number of files.
 * @returns `tick()` after each file and `done()` at the end.
 */
export function progress(total: number): { tick(): void; done(): void } {
  const tty = Deno.stderr.isTerminal();
  const started = performance.now();
  const encoder = new TextEncoder();
  let count = 0;
  let drawn = 0;
  let decile = 0;
  const line = () => {
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? count / seconds : 0;
    const eta = rate > 0 ? Math.round((total - count) / rate) : 0;
    const width = 24;
    const filled = Math.round((count / Math.max(1, total)) * width);
    return `[${"#".repeat(filled)}${"-".repeat(width - filled)}] ${count}/${total} ${rate.toFixed(1)} files/s ` +
      `ETA ${eta}s`;
  };
  return {
    tick() {
      count++;
      const now = performance.now();
      if (tty && now - drawn > 200) {
        drawn = now;
        Deno.stderr.writeSync(encoder.encode(`\r${line()}\x1b[K`));
      } else if (!tty && Math.floor((count / total) * 10) > decile) {
        decile = Math.floor((count / total) * 10);
        Deno.stderr.writeSync(encoder.encode(`${line()}\n`));
      }
    },
    done() {
      if (tty) Deno.stderr.writeSync(encoder.encode(`\r${line()}\x1b[K\n`));
    },
  };
}

/** Runs files through the pipeline: in this process, or on a service. */
export interface Runner {
  /** `options.embedding` adds the joint embedding (local runner only; `deno task index` uses it). */
  classify(
    bytes: Uint8Array,
    topK?: number,
    options?: { embedding?: boolean },
  ): Promise<Omit<ClassifyResult, "timings">>;
  embed(bytes: Uint8Array, space: "joint" | "encoder"): Promise<Omit<EmbedResult, "timings">>;
}

/**
 * Loads the encoders and the trained joint space into this process (the first run imports the encoders).
 *
 * @returns A runner on the local pipeline.
 */
export async function localRunner(): Promise<Runner> {
  const config = loadConfig();
  const encoders = await ensureEncoders({
    cacheDir: config.cacheDir,
    weightsDir: config.weightsDir,
    names: [config.audioEncoder, config.imageEncoder],
    log: (line) => console.error(line),
  });
  const audio = encoders[config.audioEncoder]!;
  const image = encoders[config.imageEncoder]!;
  const hasJoint = await Deno.stat(join(config.modelsDir, "manifest.json")).then(() => true, () => false);
  const pipeline = await Pipeline.create(config, { audio, image }, { joint: hasJoint });
  return {
    classify: async (bytes, topK, options) => {
      const { timings: _, ...result } = await pipeline.classify(bytes, topK, options);
      return result;
    },
    embed: async (bytes, space) => {
      const { timings: _, ...result } = await pipeline.embed(bytes, space);
      return result;
    },
  };
}

/**
 * Sends files to a running service.
 *
 * @param url The service's base URL, e.g. `http://localhost:8000`.
 * @param headers Extra request headers (an API key).
 * @returns A runner over HTTP; a problem answer is thrown as a {@linkcode ProblemError}.
 */
export function remoteRunner(url: string, headers: Record<string, string> = {}): Runner {
  const base = url.replace(/\/+$/, "");
  async function call(path: string, bytes: Uint8Array) {
    const res = await fetch(`${base}${path}`, { method: "POST", body: bytes as Uint8Array<ArrayBuffer>, headers });
    const body = await res.json().catch(() => ({}));
    if (!res.ok) throw new ProblemError(res.status, body.detail ?? `HTTP ${res.status}`);
    return body;
  }
  return {
    classify: (bytes, topK) => call(`/v1/classify${topK === undefined ? "" : `?top_k=${topK}`}`, bytes),
    embed: async (bytes, space) => {
      const body = await call(`/v1/embed?space=${space}&encoding=base64`, bytes);
      return { ...body, embedding: Array.from(fromFloat32Base64(body.embedding)) };
    },
  };
}

/**
 * A failure in words for one file: the service's problem detail, or the error's message.
 *
 * @param error What running the file threw.
 * @returns `{status, detail}`; status 0 for a file that could not be read.
 */
export function describeError(error: unknown): { status: number; detail: string } {
  if (error instanceof ProblemError) return { status: error.status, detail: error.message };
  if (error instanceof Deno.errors.NotFound || error instanceof Deno.errors.PermissionDenied) {
    return { status: 0, detail: `cannot read the file (${error.name})` };
  }
  return { status: 500, detail: error instanceof Error ? error.message : String(error) };
}
