/**
 * Middleware that keeps the memory of requests in flight within one budget: it reads the body
 * itself, counting what it buffers and what decoding it will cost, and refuses with 503 +
 * `Retry-After` (after a short wait for room) rather than letting a burst of large uploads take the
 * process past its memory cap. It also enforces the per-request body limit (413), in place of
 * `hono/body-limit`, which buffers a body without `Content-Length` before anything can count it.
 *
 * Per request, in order:
 *
 * 1. `Content-Length` over `maxBodyBytes`: 413 before any byte is read.
 * 2. The first `headBytes` are read and `estimate` turns them into decode bytes (image size from the
 *    header, audio seconds, ...).
 * 3. The request takes `copies x body + decode` from the budget, waiting for room or getting a 503.
 *    Without `Content-Length` it takes what it has read so far and takes more as the body streams
 *    in; the first chunk that does not fit ends it with a 503, one past `maxBodyBytes` with a 413.
 * 4. The route reads the buffered body as usual (`c.req.raw` is replaced; its `arrayBuffer()` returns the
 *    buffer itself, not a copy).
 * 5. Everything is given back once the route has answered, failed or the client went away, and `onRelease` is
 *    told (the main isolate then collects answered bodies, `createByteReclaimer` in `lib/worker/reclaim.ts`).
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { ProblemError } from "../errors.ts";
import type { InflightBudget } from "./inflight_budget.ts";

/** Options of {@linkcode memoryBudget}. */
export interface MemoryBudgetOptions {
  /** The budget shared by all requests. */
  budget: InflightBudget;
  /** Largest body accepted; larger ones get 413. */
  maxBodyBytes: number;
  /**
   * Decode bytes an upload will cost, from its first bytes and its total size when known.
   * @default () => 0
   */
  estimate?: (head: Uint8Array, totalBytes: number | undefined) => number;
  /** Bytes read before estimating (enough for the headers `estimate` reads). @default 262_144 */
  headBytes?: number;
  /**
   * Copies of the body counted: this middleware's buffer (which a raw body's route reads without a copy) and the
   * decoder's (sharp copies its input into its WASM heap; answered bodies stay until a collection), one more for
   * multipart bodies, whose file part is copied again.
   * @default 2
   */
  bodyCopies?: number;
  /** Told the bytes a request gave back once it was answered (its buffers are garbage then). @default none */
  onRelease?: (bytes: number) => void;
}

/** What each request's body reservation holds, for routes that reserve more on top (`heldBy`). */
const HELD = new WeakMap<Request, number>();

/**
 * Bytes the budget middleware holds for a request (its body copies and announced decode), 0 for one it did not
 * handle. A route that reserves more for the same request (a batch's items) passes it to
 * `InflightBudget.take` so its own body does not count as someone else's.
 *
 * @param request The request as the route sees it (`c.req.raw`).
 * @returns Bytes held.
 */
export function heldBy(request: Request): number {
  return HELD.get(request) ?? 0;
}

/** Bytes taken at a time while a body of unknown length streams in. */
const GROW_STEP = 1 << 20;

/**
 * Creates the middleware.
 *
 * @param options The shared budget, the body limit and the decode estimate.
 * @returns The middleware; requests without a body pass through untouched.
 *
 * @example
 * ```ts
 * const budget = new InflightBudget({ capacity: 160e6 });
 * app.use("/v1/*", memoryBudget({ budget, maxBodyBytes: 25e6, estimate: (head, total) => estimateDecodeBytes(head, { totalBytes: total }) }));
 * ```
 */
export function memoryBudget(options: MemoryBudgetOptions): MiddlewareHandler {
  const { budget, maxBodyBytes } = options;
  const estimate = options.estimate ?? (() => 0);
  const headBytes = options.headBytes ?? 262_144;
  return async function memoryBudget(c, next) {
    const raw = c.req.raw;
    if (!raw.body) return await next();
    const length = declaredLength(raw.headers);
    if (length !== undefined && length > maxBodyBytes) throw tooLarge(maxBodyBytes);
    const multipart = (raw.headers.get("content-type") ?? "").toLowerCase().startsWith("multipart/form-data");
    const copies = (options.bodyCopies ?? 2) + (multipart ? 1 : 0);
    let held = 0;
    try {
      const reader = raw.body.getReader();
      // Chunks are kept until the reservation is granted; with a declared length the rest then goes
      // straight into one buffer of that size, otherwise chunks are kept and joined at the end.
      let buffer: Uint8Array | undefined;
      const chunks: Uint8Array[] = [];
      let size = 0;
      let done = false;
      const read = async () => {
        let next: ReadableStreamReadResult<Uint8Array>;
        try {
          next = await reader.read();
        } catch {
          throw new ProblemError(400, "The request body could not be read to its end");
        }
        if (next.done) {
          done = true;
          return;
        }
        const at = size;
        size += next.value.length;
        if (size > maxBodyBytes) throw tooLarge(maxBodyBytes);
        if (!buffer) chunks.push(next.value);
        else if (size <= buffer.length) buffer.set(next.value, at);
        else throw new ProblemError(400, `The body is longer than its Content-Length of ${length} bytes`);
      };
      while (!done && size < headBytes) await read();
      const head = concat(chunks.splice(0), size);
      const total = length ?? (done ? size : undefined);
      const upload = multipart ? filePart(head) : { bytes: head, offset: 0 };
      const decode = estimate(upload.bytes, total === undefined ? undefined : total - upload.offset);
      const need = copies * (total ?? size) + decode;
      try {
        await budget.take(need, raw.signal);
      } catch (error) {
        if (error instanceof ProblemError) throw error;
        throw new ProblemError(400, "The client went away while the request waited for memory");
      }
      held = need;
      if (length !== undefined && !done) {
        buffer = new Uint8Array(length);
        buffer.set(head);
      } else chunks.push(head);
      let covered = total ?? size; // body bytes the reservation covers
      while (!done) {
        await read();
        if (size > covered) {
          const step = Math.max(GROW_STEP, size - covered);
          if (!budget.tryTake(copies * step)) {
            throw new ProblemError(
              503,
              `The service is short of memory for this request (${size} bytes received, ${budget.used} of ${budget.capacity} in use)`,
              { headers: { "retry-after": "1" } },
            );
          }
          held += copies * step;
          covered += step;
        }
      }
      const body = buffer ? buffer.subarray(0, size) : concat(chunks.splice(0), size);
      buffer = undefined;
      c.req.raw = handOver(raw, body);
      HELD.set(c.req.raw, held);
    } catch (error) {
      budget.give(held);
      throw error;
    }
    try {
      await next();
    } finally {
      budget.give(held);
      options.onRelease?.(held);
    }
  };
}

function declaredLength(headers: Headers): number | undefined {
  const value = headers.get("content-length");
  if (value === null || headers.has("transfer-encoding")) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

function tooLarge(limit: number): ProblemError {
  return new ProblemError(413, `The body exceeds the limit of ${limit} bytes`, { extensions: { limit } });
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1 && chunks[0]!.length === size) return chunks[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/**
 * The request as the route sees it, its body the buffered bytes. `arrayBuffer()` (how `read_upload.ts` reads a raw
 * body) returns those bytes' own buffer instead of a copy, so one copy of a large body is alive, not two (measured
 * under the adversarial burst: the copies of answered bodies were most of what the burst added to RSS); any other
 * read (`formData()`, `text()`, the stream) goes through a stream of one chunk, enqueued only when pulled.
 */
function handOver(raw: Request, bytes: Uint8Array): Request {
  const request = new Request(raw, { body: oneChunk(bytes), duplex: "half" } as RequestInit);
  Object.defineProperty(request, "arrayBuffer", {
    value: async (): Promise<ArrayBuffer> => {
      if (request.bodyUsed) throw new TypeError("Body already consumed");
      await request.body?.cancel(); // marks the body used, as a read would
      const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
      return (whole ? bytes : bytes.slice()).buffer as ArrayBuffer;
    },
  });
  return request;
}

/** A stream of one chunk, enqueued when first pulled: a `Request` made from a stream takes it without a copy. */
function oneChunk(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

/**
 * The start of the first part's content in a multipart body (after the part's blank line), so the
 * estimate sees the file's own header; the whole head when there is no such line in it.
 */
function filePart(head: Uint8Array): { bytes: Uint8Array; offset: number } {
  for (let i = 0; i + 3 < head.length; i++) {
    if (head[i] === 13 && head[i + 1] === 10 && head[i + 2] === 13 && head[i + 3] === 10) {
      return { bytes: head.subarray(i + 4), offset: i + 4 };
    }
  }
  return { bytes: head, offset: 0 };
}
