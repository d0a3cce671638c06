/**
 * Inference in the main isolate (`AMODAL_WORKERS=0`), for platforms that start no Workers: the same
 * {@linkcode JobRunner} contract as the pool, with one job at a time, a bounded queue (503) and a deadline (504).
 *
 * What it cannot do that the pool does: stop a computation. A job past its deadline is answered 504 and left to
 * finish, and the next job waits for it; a WASM trap cannot be isolated either, so a pipeline that threw one is
 * replaced by a fresh one (its sessions reload on the next job). onnxruntime-web runs with one thread here, since
 * its extra threads are Workers too, and each forward pass holds the event loop (~40 ms for MobileNetV2).
 *
 * @module
 */
import { ProblemError } from "../errors.ts";
import type { Config } from "../config.ts";
import type { EncoderFiles, Modality, Pipeline } from "../pipeline.ts";
import type { JobRunner, PoolStats } from "./pool.ts";
import type { JobRequest, JobResults } from "./protocol.ts";
import { loadedParts, runJob, serialise } from "./run_job.ts";

/** Options of {@linkcode InIsolateRunner}. */
export interface InIsolateOptions {
  config: Config;
  encoders: EncoderFiles;
  /** Load the trained joint space. */
  joint: boolean;
}

/**
 * Runs jobs on a {@linkcode Pipeline} in this isolate.
 *
 * @example
 * ```ts
 * const runner = await InIsolateRunner.create({ config, encoders, joint: true });
 * await runner.run({ op: "classify", bytes, options: {} });
 * ```
 */
export class InIsolateRunner implements JobRunner {
  #opts: InIsolateOptions;
  #pipeline: Pipeline;
  #tail: Promise<unknown> = Promise.resolve();
  #queued = 0;
  #busy = false;
  #restarts = 0;
  #loaded: () => string[];

  private constructor(opts: InIsolateOptions, pipeline: Pipeline, loaded: () => string[]) {
    this.#opts = opts;
    this.#pipeline = pipeline;
    this.#loaded = loaded;
  }

  /**
   * Prepares the pipeline (onnxruntime-web is imported here, not before: with workers the main isolate never
   * loads it).
   *
   * @param options Configuration, encoder files, whether a joint space is deployed.
   * @returns The runner.
   */
  static async create(options: InIsolateOptions): Promise<InIsolateRunner> {
    const { Pipeline } = await import("../pipeline.ts");
    const config = { ...options.config, threadsPerWorker: 1 };
    const opts = { ...options, config };
    const pipeline = await Pipeline.create(config, options.encoders, { joint: options.joint });
    const runner: InIsolateRunner = new InIsolateRunner(opts, pipeline, () => loadedParts(runner.#pipeline));
    return runner;
  }

  /**
   * Loads and runs one modality's path (`AMODAL_WARMUP`).
   *
   * @param modality What to warm.
   */
  warmUp(modality: Modality): Promise<void> {
    // Queued like a job, so that a request arriving meanwhile waits for it instead of racing it on a session.
    const warm = this.#tail.then(async () => {
      const { warmupInputs } = await import("./warmup_inputs.ts");
      const size = (this.#opts.encoders.image.card.preprocess as { size: number }).size;
      for (const input of await warmupInputs(modality, size)) await this.#pipeline.warmUp(input).catch(() => {});
    });
    this.#tail = warm.catch(() => {});
    return warm;
  }

  /**
   * Runs one job after the ones before it.
   *
   * @param job The job.
   * @returns Its result.
   * @throws {ProblemError} 503 when the queue is full, 504 past the deadline, the pipeline's 4xx, or 500.
   */
  run<J extends JobRequest>(job: J): Promise<JobResults[J["op"]]> {
    if (this.#queued >= this.#opts.config.queueSize + 1) {
      return Promise.reject(
        new ProblemError(503, `${this.#queued} requests are waiting`, { headers: { "retry-after": "1" } }),
      );
    }
    this.#queued++;
    const { promise: deadline, reject } = Promise.withResolvers<never>();
    const timeoutMs = this.#opts.config.requestTimeoutMs;
    const timer = setTimeout(
      () => reject(new ProblemError(504, `Processing took longer than ${timeoutMs} ms`)),
      timeoutMs,
    );
    let expired = false;
    deadline.catch(() => expired = true);
    const work = this.#tail.then(async () => {
      try {
        if (expired) return undefined as never; // answered 504 while queued: nothing to do
        this.#busy = true;
        return await runJob(this.#pipeline, job) as JobResults[J["op"]];
      } catch (error) {
        throw await this.#toProblem(error);
      } finally {
        this.#busy = false;
        this.#queued--;
      }
    });
    this.#tail = work.catch(() => {});
    return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
  }

  /** Nothing to stop: jobs in flight finish, queued ones still run. */
  close(): void {}

  /** Load figures in the pool's shape (`workers: 0`: no Workers). */
  stats(): PoolStats {
    return {
      workers: 0,
      ready: 0,
      busy: this.#busy ? 1 : 0,
      queued: Math.max(0, this.#queued - (this.#busy ? 1 : 0)),
      restarts: this.#restarts,
      loaded: this.#loaded().sort(),
    };
  }

  async #toProblem(error: unknown): Promise<Error> {
    if (error instanceof WebAssembly.RuntimeError) {
      const { Pipeline } = await import("../pipeline.ts");
      this.#pipeline = await Pipeline.create(this.#opts.config, this.#opts.encoders, { joint: this.#opts.joint });
      this.#restarts++;
    }
    const e = serialise(error);
    return e.status && e.status < 500
      ? new ProblemError(e.status, e.detail, { extensions: e.extensions ?? {} })
      : new ProblemError(500, e.detail);
  }
}
