/**
 * A bounded pool of inference workers.
 *
 * onnxruntime-web, sharp-WASM and ffmpeg.wasm all block the thread they run
 * on, so every request's decode + inference runs in a Worker while the main
 * thread keeps serving `/healthz`. The pool owns three failure modes so the
 * routes never see them: a full queue (503 + Retry-After), a deadline (the
 * worker is terminated and replaced, 504) and a crashed worker (replaced, 500).
 *
 * @module
 */
import { ProblemError } from "../errors.ts";
import {
  type InitMessage,
  inputBuffer,
  type JobMessage,
  type JobRequest,
  type JobResults,
  type WorkerError,
  type WorkerReply,
} from "./protocol.ts";

/** Deno's Web Worker, kept at import: loading sharp-WASM replaces `globalThis.Worker` with Node's. */
const WebWorker: typeof Worker = globalThis.Worker;

/** Options for {@linkcode WorkerPool}. */
export interface WorkerPoolOptions {
  /** Module URL of the worker script. */
  workerUrl: URL;
  /** Message posted to each new worker before any job. */
  init: InitMessage;
  /** Number of workers. @default 1 */
  size?: number;
  /** Jobs allowed to wait beyond the ones running; more are refused with 503. @default 32 */
  queueSize?: number;
  /** Deadline per job, queue wait included, in ms. @default 30_000 */
  timeoutMs?: number;
}

interface Pending {
  id: number;
  job: JobRequest;
  resolve: (value: JobResults[JobRequest["op"]]) => void;
  reject: (error: Error) => void;
  timer?: ReturnType<typeof setTimeout>;
  slot?: Slot;
}

interface Slot {
  worker: Worker;
  ready: boolean;
  current?: Pending;
  /** What the worker reported loaded in its last message. */
  loaded: string[];
  readyPromise: Promise<void>;
}

/** Load figures of a pool, for `/healthz`. */
export interface PoolStats {
  workers: number;
  ready: number;
  busy: number;
  queued: number;
  restarts: number;
  /**
   * What the service has loaded so far, in any of its isolates (`encoder:<name>`, `translator:<modality>`,
   * `ffmpeg`, `sharp`), sorted.
   */
  loaded: string[];
}

/** What the HTTP layer needs of a pool: run a job, report load. Tests of the routes pass a fake. */
export interface JobRunner {
  run<J extends JobRequest>(job: J): Promise<JobResults[J["op"]]>;
  stats(): PoolStats;
}

/**
 * Runs jobs on a fixed number of workers with a bounded queue and deadlines.
 *
 * @example
 * ```ts
 * const pool = new WorkerPool({ workerUrl: new URL("./inference_worker.ts", import.meta.url), init: { type: "init" } });
 * await pool.ready();
 * const result = await pool.run({ op: "embed", bytes, options: { space: "joint" } }); // an EmbedResult
 * ```
 */
export class WorkerPool implements JobRunner {
  #opts: Required<WorkerPoolOptions>;
  #slots: Slot[] = [];
  #queue: Pending[] = [];
  #nextId = 1;
  #closed = false;
  /** Workers replaced after a crash or a deadline, for /healthz and tests. */
  restarts = 0;

  /** @param options Pool sizing, worker script and its init message. */
  constructor(options: WorkerPoolOptions) {
    this.#opts = { size: 1, queueSize: 32, timeoutMs: 30_000, ...options };
    for (let i = 0; i < this.#opts.size; i++) this.#slots.push(this.#spawn());
  }

  /** Resolves once every worker has loaded its models; rejects if one fails to start. */
  async ready(): Promise<void> {
    await Promise.all(this.#slots.map((s) => s.readyPromise));
  }

  /** Current load, for health reporting and the sizing rule. */
  stats(): PoolStats {
    return {
      workers: this.#slots.length,
      ready: this.#slots.filter((s) => s.ready).length,
      busy: this.#slots.filter((s) => s.current).length,
      queued: this.#queue.length,
      restarts: this.restarts,
      loaded: [...new Set(this.#slots.flatMap((s) => s.loaded))].sort(),
    };
  }

  /**
   * Runs one job.
   *
   * @param job The operation and its input; the input's buffer is transferred, not copied.
   * @returns The worker's result.
   * @throws {ProblemError} 503 when the queue is full, 504 past the deadline,
   * 500 when the worker died, or the worker's own 4xx.
   */
  run<J extends JobRequest>(job: J): Promise<JobResults[J["op"]]> {
    if (this.#closed) return Promise.reject(new ProblemError(503, "The service is shutting down"));
    const busy = this.#slots.filter((s) => s.current || !s.ready).length;
    if (busy >= this.#slots.length && this.#queue.length >= this.#opts.queueSize) {
      return Promise.reject(
        new ProblemError(
          503,
          `All ${this.#slots.length} workers are busy and ${this.#queue.length} requests are waiting`,
          {
            headers: { "retry-after": "1" },
          },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const pending: Pending = {
        id: this.#nextId++,
        job,
        resolve: resolve as Pending["resolve"],
        reject,
        timer: undefined,
      };
      pending.timer = setTimeout(() => this.#expire(pending), this.#opts.timeoutMs);
      this.#queue.push(pending);
      this.#dispatch();
    });
  }

  /** Terminates every worker and fails queued jobs. */
  close(): void {
    this.#closed = true;
    for (const p of this.#queue.splice(0)) this.#settle(p, new ProblemError(503, "The service is shutting down"));
    for (const slot of this.#slots) {
      if (slot.current) this.#settle(slot.current, new ProblemError(503, "The service is shutting down"));
      slot.worker.terminate();
    }
    this.#slots = [];
  }

  #spawn(): Slot {
    const worker = new WebWorker(this.#opts.workerUrl.href, { type: "module" });
    let readyResolve!: () => void;
    let readyReject!: (e: Error) => void;
    const slot: Slot = {
      worker,
      ready: false,
      loaded: [],
      readyPromise: new Promise<void>((res, rej) => {
        readyResolve = res;
        readyReject = rej;
      }),
    };
    // A start-up failure must surface through ready(), not as an unhandled rejection.
    slot.readyPromise.catch(() => {});
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const msg = event.data;
      if (msg?.type === "ready") {
        slot.ready = true;
        slot.loaded = msg.loaded;
        readyResolve();
        this.#dispatch();
      } else if (msg?.type === "fatal") {
        readyReject(new Error(msg.message));
      } else if (msg?.type === "result") {
        slot.loaded = msg.loaded;
        const pending = slot.current;
        if (!pending || pending.id !== msg.id) return;
        slot.current = undefined;
        if (msg.ok) this.#settle(pending, undefined, msg.result);
        else this.#settle(pending, toError(msg.error));
        this.#dispatch();
      }
    };
    worker.onerror = (event: ErrorEvent) => {
      // Keep the process alive: a worker's uncaught error is handled here.
      event.preventDefault();
      if (!slot.ready) readyReject(new Error(`Worker failed to start: ${event.message}`));
      this.#replace(slot, new ProblemError(500, "The inference worker failed while processing this request"));
    };
    worker.postMessage(this.#opts.init);
    return slot;
  }

  #replace(slot: Slot, error: ProblemError): void {
    const index = this.#slots.indexOf(slot);
    if (index < 0) return;
    slot.worker.terminate();
    if (slot.current) this.#settle(slot.current, error);
    slot.current = undefined;
    this.restarts++;
    if (!this.#closed) this.#slots[index] = this.#spawn();
  }

  #expire(pending: Pending): void {
    const queued = this.#queue.indexOf(pending);
    const error = new ProblemError(504, `Processing took longer than ${this.#opts.timeoutMs} ms`);
    if (queued >= 0) {
      this.#queue.splice(queued, 1);
      this.#settle(pending, error);
    } else if (pending.slot?.current === pending) {
      // The only way to stop a WASM computation is to terminate its worker.
      this.#replace(pending.slot, error);
    }
  }

  #dispatch(): void {
    for (const slot of this.#slots) {
      if (this.#queue.length === 0) return;
      if (!slot.ready || slot.current) continue;
      const pending = this.#queue.shift()!;
      pending.slot = slot;
      slot.current = pending;
      const { job } = pending;
      const message: JobMessage = { ...job, type: "job", id: pending.id };
      slot.worker.postMessage(message, [inputBuffer(job)]);
    }
  }

  #settle(pending: Pending, error?: Error, value?: JobResults[JobRequest["op"]]): void {
    clearTimeout(pending.timer);
    if (error) pending.reject(error);
    else pending.resolve(value!);
  }
}

function toError(error: WorkerError): Error {
  if (error.status && error.status < 500) {
    return new ProblemError(error.status, error.detail, { extensions: error.extensions ?? {} });
  }
  return new Error(error.detail);
}
