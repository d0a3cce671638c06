/**
 * Inference through a content-addressed cache: the key is the sha256 of the bytes received, the model
 * version and the operation, so a file sent again (by anyone) answers from memory, and
 * `GET /v1/results/{sha256}` can serve a result without the file.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { ClassifyResult, EmbedResult, Timings } from "../pipeline.ts";
import type { JobRunner } from "../worker/pool.ts";
import { ResultCache } from "./result_cache.ts";

/** A classification as cached: every label's score, no timings. */
export type CachedClassify = Omit<ClassifyResult, "timings">;
/** An embedding as cached: float32 values (4 bytes each), no timings. */
export type CachedEmbed = Omit<EmbedResult, "timings" | "embedding"> & { embedding: Float32Array };

/** What to compute. */
export type Operation = { op: "classify" } | { op: "embed"; space: "joint" | "encoder" };

/** The outcome of {@linkcode CachedInference.run}. */
export interface Outcome<R> {
  sha256: string;
  result: R;
  /** Whether the result came from the cache. */
  cached: boolean;
  /** Stage timings when inference ran. */
  timings?: Timings;
}

/** Runs jobs on a pool, keeping results by content. */
export class CachedInference {
  #pool: JobRunner;
  #cache: ResultCache<CachedClassify | CachedEmbed>;
  #inflight = new Map<string, Promise<Outcome<CachedClassify | CachedEmbed>>>();
  /** Whether results are reused at all (cache and in-flight sharing); off with `cacheBytes` 0, e.g. for benchmarks. */
  #reuse: boolean;
  /** Version of the trained joint space, part of every key. */
  readonly model: string;

  /**
   * @param pool Runs the jobs.
   * @param options `cacheBytes` bounds the cache (0 disables it); `model` is the deployed model version.
   */
  constructor(pool: JobRunner, options: { cacheBytes: number; model: string }) {
    this.#pool = pool;
    this.#reuse = options.cacheBytes > 0;
    this.#cache = new ResultCache(options.cacheBytes);
    this.model = options.model;
  }

  /**
   * Classifies or embeds a file, from the cache when its content was seen.
   *
   * @param operation What to compute.
   * @param bytes The file (transferred to a worker on a miss: do not use it afterwards).
   * @returns The result, the file's sha256 and whether it was cached.
   */
  async run(operation: { op: "classify" }, bytes: Uint8Array): Promise<Outcome<CachedClassify>>;
  async run(operation: { op: "embed"; space: "joint" | "encoder" }, bytes: Uint8Array): Promise<Outcome<CachedEmbed>>;
  async run(operation: Operation, bytes: Uint8Array): Promise<Outcome<CachedClassify | CachedEmbed>> {
    const sha256 = sha256Hex(bytes);
    const key = this.#key(sha256, operation);
    const hit = this.#cache.get(key);
    if (hit) return { sha256, result: hit, cached: true };
    // The same content already running (a retry, a batch naming one file twice): wait for it, not a second run.
    const running = this.#inflight.get(key);
    if (running) return { ...(await running), cached: true, timings: undefined };
    if (!this.#reuse) return await this.#compute(operation, bytes, sha256, key);
    const promise = this.#compute(operation, bytes, sha256, key);
    this.#inflight.set(key, promise);
    try {
      return await promise;
    } finally {
      this.#inflight.delete(key);
    }
  }

  async #compute(
    operation: Operation,
    bytes: Uint8Array,
    sha256: string,
    key: string,
  ): Promise<Outcome<CachedClassify | CachedEmbed>> {
    if (operation.op === "classify") {
      const { timings, ...result } = await this.#pool.run({ op: "classify", bytes, options: {} });
      // JSON length is proportional to what the object holds: a fair size estimate for the bound.
      this.#cache.set(key, result, JSON.stringify(result).length * 2);
      return { sha256, result, cached: false, timings };
    }
    const { timings, embedding, ...rest } = await this.#pool.run({
      op: "embed",
      bytes,
      options: { space: operation.space },
    });
    const result: CachedEmbed = { ...rest, embedding: Float32Array.from(embedding) };
    // A video's per-modality vectors are JSON numbers (8 bytes each in memory, and more).
    const modalities = Object.values(result.modalities ?? {}).reduce((n, m) => n + 16 * m.embedding.length, 0);
    this.#cache.set(key, result, result.embedding.byteLength + modalities + 256);
    return { sha256, result, cached: false, timings };
  }

  /**
   * A cached result, without the file.
   *
   * @param sha256 The file's sha256, hex.
   * @param operation Which result.
   * @returns The result, or undefined when it is not (or no longer) cached.
   */
  lookup(sha256: string, operation: { op: "classify" }): CachedClassify | undefined;
  lookup(sha256: string, operation: { op: "embed"; space: "joint" | "encoder" }): CachedEmbed | undefined;
  lookup(sha256: string, operation: Operation): CachedClassify | CachedEmbed | undefined {
    return this.#cache.get(this.#key(sha256, operation));
  }

  /**
   * A strong entity tag for one representation of a result: derived from the input's sha256, the model
   * version and everything else that shapes the body.
   *
   * @param sha256 The file's sha256, hex.
   * @param variant The operation and its output options, e.g. `classify top_k=3`.
   * @returns A quoted ETag.
   */
  etag(sha256: string, variant: string): string {
    return `"${sha256Hex(new TextEncoder().encode(`${sha256}\n${this.model}\n${variant}`)).slice(0, 40)}"`;
  }

  /** Bytes and entries held, for `/healthz`. */
  stats(): { bytes: number; entries: number } {
    return { bytes: this.#cache.bytes, entries: this.#cache.size };
  }

  #key(sha256: string, operation: Operation): string {
    return `${this.model}\n${operation.op}\n${operation.op === "embed" ? operation.space : ""}\n${sha256}`;
  }
}

/**
 * sha256 of bytes as lowercase hex.
 *
 * @param bytes Any bytes.
 * @returns 64 hex characters.
 */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}
