/**
 * `X-Request-Id` on every response: the client's id when it sent a sane one, else a new UUID.
 *
 * Hono's `requestId` middleware sets the header on the context before the route runs, which responses
 * built later (errors from `onError`, routes that return a `Response`) do not carry; this one sets it
 * on whatever response comes back, so the id a 500 tells the client to quote is always there.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { requestId as honoRequestId } from "hono/request-id";

/**
 * Creates the middleware. Mount it first so it wraps every other middleware's answers.
 *
 * @param options `limitLength`: longer client ids are replaced. @default 128
 * @returns The middleware; the id is in `c.get("requestId")`.
 */
export function requestId(options: { limitLength?: number } = {}): MiddlewareHandler {
  const inner = honoRequestId({ limitLength: options.limitLength ?? 128 });
  return async function requestId(c, next) {
    await inner(c, next);
    const id = c.get("requestId");
    if (c.res.headers.get("x-request-id") === id) return;
    try {
      c.res.headers.set("x-request-id", id);
    } catch {
      // Immutable headers (a fetched Response): copy once.
      c.res = new Response(c.res.body, c.res);
      c.res.headers.set("x-request-id", id);
    }
  };
}
