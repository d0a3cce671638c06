/**
 * Token-bucket rate limiting per API key, or per client IP when the service is open.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { ProblemError } from "../errors.ts";

/** Options for {@linkcode rateLimit}. */
export interface RateLimitOptions {
  /** Tokens added per second (sustained requests per second). */
  ratePerSecond: number;
  /** Bucket size (largest burst). */
  burst: number;
  /** Who a request counts against. @default the API key, else the remote address */
  keyOf?: (c: Context) => string;
  /** Clock in ms, for tests. @default performance.now */
  now?: () => number;
  /** Buckets kept before idle ones are dropped. @default 10_000 */
  maxClients?: number;
}

/**
 * Creates the middleware: a request that finds its bucket empty gets 429 with `Retry-After`.
 *
 * @param options Rate, burst and client identity.
 * @returns The middleware.
 */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  const now = options.now ?? (() => performance.now());
  const maxClients = options.maxClients ?? 10_000;
  const keyOf = options.keyOf ?? defaultKey;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return async function rateLimit(c, next) {
    const key = keyOf(c);
    const t = now();
    const bucket = buckets.get(key) ?? { tokens: options.burst, at: t };
    bucket.tokens = Math.min(options.burst, bucket.tokens + ((t - bucket.at) / 1000) * options.ratePerSecond);
    bucket.at = t;
    buckets.delete(key); // re-insert so Map order is least-recently-used first
    buckets.set(key, bucket);
    if (buckets.size > maxClients) buckets.delete(buckets.keys().next().value!);
    if (bucket.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - bucket.tokens) / options.ratePerSecond));
      throw new ProblemError(429, `Rate limit of ${options.ratePerSecond} requests/s exceeded`, {
        headers: { "retry-after": String(wait) },
      });
    }
    bucket.tokens -= 1;
    await next();
  };
}

function defaultKey(c: Context): string {
  const apiKey = c.get("apiKey" as never) as string | undefined;
  if (apiKey) return `key:${apiKey}`;
  const info = (c.env as { remoteAddr?: Deno.NetAddr } | undefined)?.remoteAddr;
  return `ip:${info?.hostname ?? "unknown"}`;
}
