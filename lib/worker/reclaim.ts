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

/** Counts finished jobs and collects garbage every so many, or once they left enough garbage. */
export interface Reclaimer {
  /**
   * Call after each job (`force`: it dropped something only a collection frees); returns whether it scheduled a
   * collection, which runs in a task of its own.
   */
  jobDone(force?: boolean): boolean;
}

/**
 * Creates a {@linkcode Reclaimer}.
 *
 * Besides every `every` jobs, it collects after any job that left the isolate's external memory (the
 * ArrayBuffers of transferred uploads, decoded audio, ffmpeg.wasm's in-memory files) `externalBytes` above
 * what it was after the last collection. Measured (issue 16, `scripts/bench/burst_probe.ts`): one 30 s 4K
 * video left 144 MiB of such garbage in the inference worker, which stayed resident until 16 more jobs had
 * run, i.e. the service rested ~150 MiB higher after its first video.
 *
 * @param options `every`: jobs between collections (default 16); `externalBytes`: growth of external memory
 *   that triggers one (default 32 MiB); `external`: reads the isolate's external memory (default
 *   `Deno.memoryUsage().external`); `gc`: the collector (default the global `gc` that `--expose-gc` installs).
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
  options: {
    every?: number;
    externalBytes?: number;
    external?: () => number;
    gc?: (() => void) | undefined;
  } = {},
): Reclaimer {
  const every = options.every ?? 16;
  if (!(Number.isInteger(every) && every >= 1)) throw new RangeError(`every must be a positive integer, got ${every}`);
  const externalBytes = options.externalBytes ?? 32 * 2 ** 20;
  const external = options.external ?? (() => Deno.memoryUsage().external);
  const gc = "gc" in options ? options.gc : (globalThis as { gc?: () => void }).gc;
  let since = 0;
  let scheduled = false;
  let floor = gc ? external() : 0;
  return {
    jobDone(force = false) {
      if (!gc || scheduled) return false;
      if (++since < every && external() - floor < externalBytes && !force) return false;
      since = 0;
      scheduled = true;
      // A task of its own: while the job's handler is still on the stack its input and the decoder it
      // dropped are reachable, and a collection there frees neither (measured: a dropped ffmpeg core
      // survived it, and was freed by the next).
      setTimeout(() => {
        scheduled = false;
        gc();
        floor = external();
      }, 0);
      return true;
    },
  };
}

/** Counts bytes that became garbage and collects once enough have. */
export interface ByteReclaimer {
  /** Call when `bytes` of buffers became unreachable (a request's body, answered); returns whether it collected. */
  released(bytes: number): boolean;
}

/**
 * Creates a {@linkcode ByteReclaimer}, for the main isolate's request bodies.
 *
 * A body is an ArrayBuffer outside V8's heap, freed only when a collection finds it unreachable. V8 starts
 * one when external memory has grown by some tens of MB since the last, so under a burst of large uploads
 * the bodies of requests already answered stayed alive beside those in flight: measured at the peak of the
 * adversarial burst (issue 16, `scripts/bench/burst_probe.ts`), the main isolate's external memory was
 * 102 MiB while the in-flight budget held 40 MiB. A full collection once `thresholdBytes` have been
 * released (at most one per `minIntervalMs`, after the answer, in a task of its own) returns them at once.
 *
 * @param options `thresholdBytes` (default 16 MiB) released since the last collection before the next;
 *   `minIntervalMs` (default 250) between collections; `quietMs` (default 1000): bytes released but not yet
 *   collected are collected once no release came for this long; `gc` (default the global `gc` of `--expose-gc`).
 * @returns The reclaimer; a no-op when there is no collector.
 *
 * @example
 * ```ts
 * const reclaimer = createByteReclaimer();
 * budget.give(held);
 * reclaimer.released(held);
 * ```
 */
export function createByteReclaimer(
  options: { thresholdBytes?: number; minIntervalMs?: number; quietMs?: number; gc?: (() => void) | undefined } = {},
): ByteReclaimer {
  const threshold = options.thresholdBytes ?? 16 * 2 ** 20;
  const minInterval = options.minIntervalMs ?? 250;
  const quiet = options.quietMs ?? 1_000;
  const gc = "gc" in options ? options.gc : (globalThis as { gc?: () => void }).gc;
  let pending = 0;
  let last = -Infinity;
  let scheduled = false;
  let trailing: ReturnType<typeof setTimeout> | undefined;
  const collect = () => {
    clearTimeout(trailing);
    trailing = undefined;
    scheduled = false;
    pending = 0;
    last = performance.now();
    gc!();
  };
  return {
    released(bytes) {
      if (!gc) return false;
      pending += bytes;
      if (pending < threshold || scheduled || performance.now() - last < minInterval) {
        // What is left when a burst ends (under the threshold, or inside the interval) is collected once
        // releases have stopped for `quietMs`, so RSS after a burst comes back down without waiting for V8.
        clearTimeout(trailing);
        trailing = undefined;
        if (!scheduled) {
          trailing = setTimeout(collect, quiet);
          Deno.unrefTimer(trailing); // never what keeps the process alive
        }
        return false;
      }
      scheduled = true;
      clearTimeout(trailing);
      // A task of its own: the answer that released the bytes is written first.
      setTimeout(collect, 0);
      return true;
    },
  };
}
