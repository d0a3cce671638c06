/**
 * Service configuration, read once from the environment.
 *
 * Every limit a client can hit is here so operators can tune it without code
 * changes; the README's configuration table mirrors this file.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Runtime configuration of the service. */
export interface Config {
  /** TCP port. @default 8000 */
  port: number;
  /** Interface to bind. @default "0.0.0.0" */
  hostname: string;
  /** Largest accepted request body in bytes. @default 25_000_000 */
  maxBodyBytes: number;
  /**
   * Memory that requests in flight may hold together: buffered bodies plus the decode sizes their headers announce
   * (`lib/http/memory_budget.ts`). A request that does not fit waits up to 5 s, then gets 503 + Retry-After.
   * @default 64_000_000
   */
  maxInflightBytes: number;
  /** Largest accepted image, width × height, checked from the header. @default 40_000_000 */
  maxImagePixels: number;
  /** Audio beyond this many seconds is ignored (the response says so). @default 30 */
  maxAudioSeconds: number;
  /**
   * Videos whose container declares more seconds than this are refused (422) before anything is decoded; shorter
   * ones are analysed over their first `maxAudioSeconds`, like audio (`lib/media/video.ts`). @default 600
   */
  maxVideoSeconds: number;
  /** Per-request deadline for decoding + inference. @default 30_000 */
  requestTimeoutMs: number;
  /**
   * Inference workers; 0 runs inference in the main isolate (platforms without Workers, `lib/worker/in_isolate.ts`).
   * @default 1
   */
  workers: number;
  /**
   * Inference threads per worker. 2 by default: on the idle 2-core machine 1 worker x 2 threads gave JPEG 224 p50
   * 39-45 ms and 24-30 images/s at concurrency 4, against 52-67 ms and 15-20/s with 1 thread; only on a machine
   * busy with other jobs did 1 thread win (docs/performance.md). @default 2
   */
  threadsPerWorker: number;
  /**
   * Encoder runtime: `web` (onnxruntime-web WASM, portable) or `node`
   * (onnxruntime-node native CPU, several times faster; needs `--allow-ffi`). @default "web"
   */
  backend: "web" | "node";
  /**
   * Let idle inference threads spin-wait between operators (`AMODAL_SPIN=1`). Off by default: spinning threads take
   * the cores HTTP and decoding need (docs/performance.md). @default false
   */
  spin: boolean;
  /**
   * Run each encoder and its translator head as one fused graph (`AMODAL_FUSE=1`; `lib/encoders/fuse/`, built on first
   * use into `<cacheDir>/encoders/fused/`). Off by default: measured, it saves no measurable time per request and
   * costs ~0.5-0.9 ms per `?space=encoder` embedding, since onnxruntime runs the fused translator's nodes whatever the
   * fetches (docs/performance.md). @default false
   */
  fuse: boolean;
  /**
   * Modalities whose path (decoder, encoder, translator, classifier head) is loaded and run once in the background as soon
   * as the service starts (`AMODAL_WARMUP=all|none|image|audio`); the others load on their first request. Images by
   * default: measured, that gives the first answer soonest (docs/performance.md), and audio (YAMNet, ffmpeg.wasm
   * ~100 MB) is not paid for until a sound arrives. @default ["image"]
   */
  warmup: ("audio" | "image")[];
  /** Requests allowed to wait for a worker before 503. @default 32 */
  queueSize: number;
  /** Folder with read-only material (`weights/`, `corpus/`). @default "../shared" */
  sharedDir: string;
  /** Folder with the pinned TFLite files. @default "<sharedDir>/weights" */
  weightsDir: string;
  /** Folder for generated encoders and caches. @default ".cache" */
  cacheDir: string;
  /** Folder with trained artifacts (translator, forest, manifest). @default "models" */
  modelsDir: string;
  /** Default audio encoder name (a card in models/encoders.json). @default "yamnet" */
  audioEncoder: string;
  /** Default image encoder name. @default "mobilenet_v2" */
  imageEncoder: string;
  /** File of sha256 hex hashes of accepted API keys, one per line; unset = open. */
  apiKeysFile: string | undefined;
  /** Sustained requests per second per key (or IP); 0 disables. @default 0 */
  rateLimitPerSecond: number;
  /** Burst size of the token bucket. @default 20 */
  rateLimitBurst: number;
  /** Allowed CORS origins; empty = no CORS headers. */
  corsOrigins: string[];
  /** Generated dataset folder (`deno task data`). @default {"data"} */
  dataDir: string;
  /** Instrument recordings and photos. @default {"<sharedDir>/corpus"} */
  corpusDir: string;
  /** Python 3 with the training and report packages (`deno task setup`). @default {"/usr/bin/python3"} */
  python: string;
  /**
   * Bytes of inference results kept in memory by content (sha256 + model), so a file sent again answers
   * without inference; 0 disables. @default 64_000_000
   */
  cacheBytes: number;
  /** Most items in one `POST /v1/batch`. @default 32 */
  batchMaxItems: number;
  /** Folder for state the service keeps (the embedded KV store of collections). @default "state" */
  stateDir: string;
  /**
   * The collections' Deno KV store: a file path, `:memory:`, or an `https://` KV Connect URL (token in
   * `DENO_KV_ACCESS_TOKEN`) shared by several instances. @default "<stateDir>/collections.sqlite3"
   */
  kvUrl: string;
  /** Most items in one collection (`PUT` answers 409 beyond). @default 100_000 */
  collectionMaxItems: number;
}

/** How the README runs Deno; messages that tell a user what to run quote it. */
export const DENO = "npx --yes deno@2.9.6";

/**
 * The command line of a `deno.json` task, for messages.
 *
 * @param task Task name and arguments, e.g. `"data"`.
 * @returns e.g. `npx --yes deno@2.9.6 task data`.
 */
export function denoTask(task: string): string {
  return `${DENO} task ${task}`;
}

/** Repository root, derived from this file's location so cwd does not matter. */
export const REPO_ROOT: string = resolve(fileURLToPath(new URL("../", import.meta.url)));

function int(env: (k: string) => string | undefined, key: string, fallback: number): number {
  const raw = env(key);
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`Cannot read ${key}: "${raw}" is not a non-negative number`);
  }
  return value;
}

function backendName(raw: string | undefined): "web" | "node" {
  if (raw === undefined || raw === "" || raw === "web") return "web";
  if (raw === "node") return "node";
  throw new RangeError(`Cannot read AMODAL_BACKEND: "${raw}" is not "web" or "node"`);
}

function warmupList(raw: string | undefined): ("audio" | "image")[] {
  if (raw === undefined || raw === "") return ["image"];
  if (raw === "none") return [];
  if (raw === "all") return ["image", "audio"];
  if (raw === "image" || raw === "audio") return [raw];
  throw new RangeError(`Cannot read AMODAL_WARMUP: "${raw}" is not "all", "none", "image" or "audio"`);
}

function collectionsConfig(env: (key: string) => string | undefined) {
  const stateDir = resolve(REPO_ROOT, env("AMODAL_STATE_DIR") ?? "state");
  const url = env("AMODAL_KV_URL") || join(stateDir, "collections.sqlite3");
  return {
    stateDir,
    kvUrl: url === ":memory:" || /^https?:\/\//.test(url) ? url : resolve(REPO_ROOT, url),
    collectionMaxItems: Math.max(1, int(env, "AMODAL_COLLECTION_MAX_ITEMS", 100_000)),
  };
}

/**
 * Builds the configuration from environment variables (`AMODAL_*`, `PORT`).
 *
 * @param env Variable lookup; defaults to `Deno.env.get`.
 * @returns The configuration with defaults filled in and paths made absolute.
 *
 * @example
 * ```ts
 * const config = loadConfig((k) => ({ PORT: "9000" })[k]);
 * console.log(config.port); // 9000
 * ```
 */
export function loadConfig(env: (key: string) => string | undefined = (k) => Deno.env.get(k)): Config {
  const sharedDir = resolve(REPO_ROOT, env("AMODAL_SHARED_DIR") ?? "../shared");
  return {
    port: int(env, "PORT", 8000),
    hostname: env("AMODAL_HOSTNAME") ?? "0.0.0.0",
    maxBodyBytes: int(env, "AMODAL_MAX_BODY_BYTES", 25_000_000),
    maxInflightBytes: int(env, "AMODAL_MAX_INFLIGHT_BYTES", 64_000_000),
    maxImagePixels: int(env, "AMODAL_MAX_IMAGE_PIXELS", 40_000_000),
    maxAudioSeconds: int(env, "AMODAL_MAX_AUDIO_SECONDS", 30),
    maxVideoSeconds: int(env, "AMODAL_MAX_VIDEO_SECONDS", 600),
    requestTimeoutMs: int(env, "AMODAL_REQUEST_TIMEOUT_MS", 30_000),
    workers: int(env, "AMODAL_WORKERS", 1),
    threadsPerWorker: Math.max(1, int(env, "AMODAL_THREADS", 2)),
    backend: backendName(env("AMODAL_BACKEND")),
    spin: env("AMODAL_SPIN") === "1",
    fuse: env("AMODAL_FUSE") === "1",
    warmup: warmupList(env("AMODAL_WARMUP")),
    queueSize: int(env, "AMODAL_QUEUE_SIZE", 32),
    sharedDir,
    weightsDir: resolve(REPO_ROOT, env("AMODAL_WEIGHTS_DIR") ?? join(sharedDir, "weights")),
    cacheDir: resolve(REPO_ROOT, env("AMODAL_CACHE_DIR") ?? ".cache"),
    modelsDir: resolve(REPO_ROOT, env("AMODAL_MODELS_DIR") ?? "models"),
    audioEncoder: env("AMODAL_AUDIO_ENCODER") ?? "yamnet",
    imageEncoder: env("AMODAL_IMAGE_ENCODER") ?? "mobilenet_v2",
    apiKeysFile: env("AMODAL_API_KEYS_FILE") || undefined,
    rateLimitPerSecond: int(env, "AMODAL_RATE_LIMIT_RPS", 0),
    rateLimitBurst: int(env, "AMODAL_RATE_LIMIT_BURST", 20),
    corsOrigins: (env("AMODAL_CORS_ORIGINS") ?? "").split(",").map((s) => s.trim()).filter(Boolean),
    dataDir: resolve(REPO_ROOT, env("AMODAL_DATA_DIR") ?? "data"),
    corpusDir: resolve(REPO_ROOT, env("AMODAL_CORPUS_DIR") ?? join(sharedDir, "corpus")),
    python: env("AMODAL_PYTHON") ?? "/usr/bin/python3",
    cacheBytes: int(env, "AMODAL_CACHE_BYTES", 64_000_000),
    batchMaxItems: Math.max(1, int(env, "AMODAL_BATCH_MAX_ITEMS", 32)),
    ...collectionsConfig(env),
  };
}
