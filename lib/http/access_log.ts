/**
 * Structured JSON access log: one line per request, no bodies.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";

/**
 * Creates the access-log middleware.
 *
 * @param options `write` receives each line (defaults to console.log); `enabled` switches it off in tests.
 * @returns A middleware that logs method, path, status, duration and request id.
 */
export function accessLog(options: { write?: (line: string) => void; enabled?: boolean } = {}): MiddlewareHandler {
  const write = options.write ?? ((line: string) => console.log(line));
  const enabled = options.enabled ?? true;
  return async function accessLog(c, next) {
    const start = performance.now();
    await next();
    if (!enabled) return;
    write(JSON.stringify({
      time: new Date().toISOString(),
      requestId: c.get("requestId"),
      method: c.req.method,
      path: new URL(c.req.url).pathname,
      status: c.res.status,
      ms: Math.round((performance.now() - start) * 10) / 10,
      bytes: Number(c.req.header("content-length") ?? 0) || undefined,
    }));
  };
}
