/**
 * Images decoded in the main isolate, inference in the workers.
 *
 * sharp-wasm runs libvips on Emscripten pthreads, i.e. Workers. Created from the main isolate they start in
 * ~15 ms; created from inside a Worker each starts ~0.5 s late, which made sharp's first operation in an
 * inference worker take 2.2 s and set the service's cold start (docs/performance.md). Decoding here also keeps
 * one sharp for the whole process instead of one per inference worker (~66 MB each). The main thread is not
 * blocked meanwhile: libvips' work runs on sharp's own threads, and only the encoder-sized pixels (150 kB for
 * 224x224) travel to a worker, transferred, not copied.
 *
 * What stays bounded: the header pixel check runs before sharp sees the file (`decode_image.ts`); at most
 * `concurrency` decodes run at once and at most `queueSize` wait (503 beyond); a decode past the deadline
 * answers 504 (libvips cannot be interrupted, so its work finishes in the background and is dropped). A libvips
 * error is a 422 (`decode_image.ts`); anything else (a WebAssembly trap or abort, which can leave the module
 * unusable) answers that request 500 and sends every later image to the workers as bytes, where a sharp that
 * fails takes only its worker down and the pool replaces it.
 *
 * Audio is passed on as bytes: its decoders (WAV reader, resampler, ffmpeg.wasm) are synchronous CPU work that
 * would hold the event loop.
 *
 * @module
 */
import { ProblemError } from "../errors.ts";
import { decodeMedia, type DecodeMediaOptions, type Media } from "../media/decode_media.ts";
import { sharpLoaded } from "../media/sharp.ts";
import { sniff } from "../media/sniff.ts";
import type { JobRunner, PoolStats } from "./pool.ts";
import type { JobRequest, JobResults } from "./protocol.ts";

/** Options of {@linkcode DecodeFirst}. */
export interface DecodeFirstOptions {
  /** Pixel limit and image geometry, as the workers would use them. */
  decode: Pick<DecodeMediaOptions, "maxPixels" | "image">;
  /** Deadline of one decode, queue wait included, in ms. @default 30_000 */
  timeoutMs?: number;
  /** Decodes running at once (sharp's pool has 4 threads). @default 4 */
  concurrency?: number;
  /** Decodes allowed to wait; more are refused with 503. @default 32 */
  queueSize?: number;
  /** The decoder (tests inject failures). @default decodeMedia */
  decodeMedia?: (bytes: Uint8Array, options: DecodeMediaOptions) => Promise<Media>;
  /** Receives one JSON line when main-isolate decoding is given up. @default console.error */
  log?: (line: string) => void;
}

/**
 * A {@linkcode JobRunner} that decodes images in this isolate and hands the pixels to another runner.
 *
 * @example
 * ```ts
 * const runner = new DecodeFirst(pool, { decode: { maxPixels: 40e6 } });
 * await runner.run({ op: "classify", bytes, options: {} }); // the pool receives { media } for an image
 * ```
 */
export class DecodeFirst implements JobRunner {
  #inner: JobRunner & { close(): void };
  #opts: Required<Omit<DecodeFirstOptions, "decode">> & Pick<DecodeFirstOptions, "decode">;
  #running = 0;
  #waiting: (() => void)[] = [];
  /** Set once a decode failed in a way that may have left sharp unusable in this isolate. */
  #broken = false;

  /**
   * @param inner The runner that does inference (the worker pool, or the in-isolate runner).
   * @param options Limits and the decoder.
   */
  constructor(inner: JobRunner & { close(): void }, options: DecodeFirstOptions) {
    this.#inner = inner;
    this.#opts = {
      timeoutMs: 30_000,
      concurrency: 4,
      queueSize: 32,
      decodeMedia,
      log: (line) => console.error(line),
      ...options,
    };
  }

  /** Whether images are still decoded here (false after a fatal decoder failure). */
  get decodingHere(): boolean {
    return !this.#broken;
  }

  /**
   * Runs one job: an image's bytes are decoded here first, anything else goes on unchanged.
   *
   * @param job The job.
   * @returns The inner runner's result, with the decode time in its timings.
   * @throws {ProblemError} The decoder's 4xx, 503 when too many decodes wait, 504 past the deadline, 500 when
   *   the decoder failed unexpectedly; then whatever the inner runner throws.
   */
  async run<J extends JobRequest>(job: J): Promise<JobResults[J["op"]]> {
    if (!job.bytes || this.#broken || sniff(job.bytes)?.modality !== "image") return this.#inner.run(job);
    const start = performance.now();
    const media = await this.#decode(job.bytes);
    // The decoder broke while this image waited or decoded beside the one that broke it: a worker decodes it.
    if (!media) return this.#inner.run(job);
    const decodeMs = performance.now() - start;
    const { bytes: _, ...rest } = job;
    const result = await this.#inner.run({ ...rest, media } as J);
    result.timings = { decode: decodeMs, ...result.timings };
    return result;
  }

  /** Closes the inner runner. */
  close(): void {
    this.#inner.close();
  }

  /** The inner runner's figures, with `sharp` in `loaded` when this isolate has loaded it. */
  stats(): PoolStats {
    const stats = this.#inner.stats();
    const loaded = sharpLoaded() && !this.#broken ? [...new Set([...stats.loaded, "sharp"])].sort() : stats.loaded;
    return { ...stats, loaded };
  }

  /**
   * Loads sharp and decodes one tiny image, so the first request does not pay for it (`AMODAL_WARMUP`).
   *
   * @param image A small valid image file.
   */
  async warmUp(image: Uint8Array): Promise<void> {
    await this.#opts.decodeMedia(image, this.#opts.decode);
  }

  /** The decoded image; undefined when decoding here was given up because of another image (see `run`). */
  async #decode(bytes: Uint8Array): Promise<Media | undefined> {
    const deadline = Promise.withResolvers<never>();
    deadline.promise.catch(() => {});
    const timer = setTimeout(
      () => deadline.reject(new ProblemError(504, `Decoding took longer than ${this.#opts.timeoutMs} ms`)),
      this.#opts.timeoutMs,
    );
    try {
      const slot = this.#acquire();
      let abandoned = false;
      // A request that gave up while queued hands its slot on as soon as it gets one.
      slot.then(() => abandoned && this.#release(), () => {});
      try {
        await Promise.race([slot, deadline.promise]);
      } catch (error) {
        abandoned = true;
        throw error;
      }
      if (this.#broken) {
        this.#release();
        return undefined;
      }
      // libvips cannot be interrupted: past the deadline the client is answered and the decode's slot is freed
      // only when it ends.
      const work = this.#opts.decodeMedia(bytes, this.#opts.decode);
      work.finally(() => this.#release()).catch(() => {});
      return await Promise.race([work, deadline.promise]);
    } catch (error) {
      if (error instanceof ProblemError) throw error;
      // Only the first failure is taken for the image that broke the decoder; the decodes running beside it fail
      // with it, through no fault of theirs.
      if (this.#broken) return undefined;
      this.#broken = true;
      this.#opts.log(JSON.stringify({
        level: "error",
        msg: "image decoding in the main isolate failed; images now go to the inference workers",
        error: String(error),
      }));
      throw new ProblemError(500, "The image decoder failed while processing this request");
    } finally {
      clearTimeout(timer);
    }
  }

  #acquire(): Promise<void> {
    if (this.#running < this.#opts.concurrency) {
      this.#running++;
      return Promise.resolve();
    }
    if (this.#waiting.length >= this.#opts.queueSize) {
      return Promise.reject(
        new ProblemError(503, `${this.#waiting.length} images are waiting to be decoded`, {
          headers: { "retry-after": "1" },
        }),
      );
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#running--;
  }
}
