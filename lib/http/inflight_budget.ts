/**
 * A byte budget shared by the requests in flight, with a short, bounded wait for room.
 *
 * @module
 */
import { ProblemError } from "../errors.ts";

/** Options of {@linkcode InflightBudget}. */
export interface InflightBudgetOptions {
  /** Bytes that may be held at once. */
  capacity: number;
  /** Longest a reservation waits for room before it is refused. @default 5_000 */
  maxWaitMs?: number;
  /** Reservations that may wait at once; beyond that they are refused at once. @default 64 */
  maxWaiters?: number;
}

interface Waiter {
  bytes: number;
  held: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/**
 * Counts bytes held by requests in flight against a capacity. A reservation that does not fit waits,
 * first come first served, for at most `maxWaitMs`, then fails with a 503 carrying `Retry-After`.
 * A reservation larger than the whole capacity is granted when nothing else is held (nothing but what the
 * same request already holds), so one request is never refused for its size alone (the per-request limits
 * bound it).
 *
 * @example
 * ```ts
 * const budget = new InflightBudget({ capacity: 64 * 2 ** 20 });
 * await budget.take(10 * 2 ** 20); // waits, or throws a 503 ProblemError
 * try {
 *   // ... work that holds 10 MiB ...
 * } finally {
 *   budget.give(10 * 2 ** 20);
 * }
 * ```
 */
export class InflightBudget {
  /** Bytes that may be held at once. */
  readonly capacity: number;
  #maxWaitMs: number;
  #maxWaiters: number;
  #used = 0;
  #waiters: Waiter[] = [];

  /** @param options Capacity and how long and how many reservations may wait. */
  constructor(options: InflightBudgetOptions) {
    if (!(options.capacity > 0)) throw new RangeError(`capacity must be positive, got ${options.capacity}`);
    this.capacity = options.capacity;
    this.#maxWaitMs = options.maxWaitMs ?? 5_000;
    this.#maxWaiters = options.maxWaiters ?? 64;
  }

  /** Bytes held now. */
  get used(): number {
    return this.#used;
  }

  /** Reservations waiting for room. */
  get waiting(): number {
    return this.#waiters.length;
  }

  /**
   * Takes `bytes` now if they fit, ahead of any waiters (for a request that already holds some and
   * grows while it streams in).
   *
   * @param bytes Bytes to take.
   * @param held Bytes the caller's own request already holds (they do not count as someone else's).
   * @returns Whether they were taken.
   */
  tryTake(bytes: number, held = 0): boolean {
    if (!this.#fits(bytes, held)) return false;
    this.#used += bytes;
    return true;
  }

  /**
   * Takes `bytes`, waiting behind earlier reservations for room.
   *
   * @param bytes Bytes to take.
   * @param signal Gives up waiting when aborted (the client went away); rejects with its reason.
   * @param held Bytes the caller's own request already holds (a batch item's decode on top of the batch's
   *   body): an oversized reservation is granted when nothing but these is held.
   * @throws {ProblemError} 503 with `Retry-After` when too many wait already or no room came within `maxWaitMs`.
   */
  take(bytes: number, signal?: AbortSignal, held = 0): Promise<void> {
    if (this.#waiters.length === 0 && this.tryTake(bytes, held)) return Promise.resolve();
    if (this.#waiters.length >= this.#maxWaiters) {
      return Promise.reject(this.#refusal(bytes, `${this.#waiters.length} requests are already waiting`));
    }
    signal?.throwIfAborted();
    return new Promise<void>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", abort);
      };
      const waiter: Waiter = {
        bytes,
        held,
        resolve: () => {
          done();
          resolve();
        },
        reject: (error) => {
          done();
          reject(error);
        },
      };
      const leave = (error: unknown) => {
        const index = this.#waiters.indexOf(waiter);
        if (index < 0) return;
        this.#waiters.splice(index, 1);
        waiter.reject(error);
        this.#grant(); // the head of the queue may have been what blocked the rest
      };
      const timer = setTimeout(
        () => leave(this.#refusal(bytes, `no room came within ${this.#maxWaitMs} ms`)),
        this.#maxWaitMs,
      );
      const abort = () => leave(signal!.reason);
      signal?.addEventListener("abort", abort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /**
   * Gives back bytes taken earlier, and lets waiting reservations in.
   *
   * @param bytes Bytes to give back.
   * @throws {RangeError} When more is given back than is held (a bookkeeping bug).
   */
  give(bytes: number): void {
    if (bytes > this.#used) throw new RangeError(`Cannot give back ${bytes} bytes: only ${this.#used} are held`);
    this.#used -= bytes;
    this.#grant();
  }

  #fits(bytes: number, held = 0): boolean {
    return this.#used + bytes <= this.capacity || this.#used <= held;
  }

  #grant(): void {
    while (this.#waiters.length > 0 && this.#fits(this.#waiters[0]!.bytes, this.#waiters[0]!.held)) {
      const waiter = this.#waiters.shift()!;
      this.#used += waiter.bytes;
      waiter.resolve();
    }
  }

  #refusal(bytes: number, why: string): ProblemError {
    return new ProblemError(
      503,
      `The service is short of memory for this request (${bytes} bytes, ${this.#used} of ${this.capacity} in use; ${why})`,
      { headers: { "retry-after": "1" } },
    );
  }
}
