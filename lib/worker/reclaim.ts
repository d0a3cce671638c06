/**
 * Garbage collection on a schedule, for memory that V8 cannot see.
 *
 * sharp-wasm's copies of its inputs and outputs and replaced ffmpeg.wasm
 * cores hold memory inside their WebAssembly heaps that is given back only
 * when small JS objects are finalised. V8 sees only those few bytes, so it
 * rarely runs the full collection that would finalise them: measured in a
 * Worker, 3,000 decodes of 40 different photos took RSS from 151 to 554 MiB,
 * and the service grew by 27-71 % over 2,500-4,000 photo requests; with a full collection every 50 decodes the same loop stayed at
 * 203-205 MiB. A collection takes 8-11 ms in the worker, so one every 16
 * jobs costs ~0.6 ms per job, paid after the job's answer has been sent.
 * Every 64 jobs left the mixed 10,000-request soak growing 7.7-10.7 %
 * (three runs); every 16, 0.8 %.
 *
 * V8 exposes `gc()` only with `--v8-flags=--expose-gc` (the start task sets
 * it); without it the reclaimer does nothing.
 *
 * @module
 */

/** Counts finished jobs and collects garbage every so many. */
export interface Reclaimer {
  /** Call after each job; returns whether it collected. */
  jobDone(): boolean;
}

/**
 * Creates a {@linkcode Reclaimer}.
 *
 * @param options `every`: jobs between collections (default 16); `gc`: the
 *   collector (default the global `gc` that `--expose-gc` installs).
 * @returns The reclaimer; a no-op when there is no collector.
 *
 * @example
 * ```ts
 * const reclaimer = createReclaimer();
 * self.postMessage(result);
 * reclaimer.jobDone();
 * ```
 */
export function createReclaimer(
  options: { every?: number; gc?: (() => void) | undefined } = {},
): Reclaimer {
  const every = options.every ?? 16;
  if (!(Number.isInteger(every) && every >= 1)) throw new RangeError(`every must be a positive integer, got ${every}`);
  const gc = "gc" in options ? options.gc : (globalThis as { gc?: () => void }).gc;
  let since = 0;
  return {
    jobDone() {
      if (!gc || ++since < every) return false;
      since = 0;
      gc();
      return true;
    },
  };
}
