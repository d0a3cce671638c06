/**
 * Builds the Hono application from its parts; no I/O happens here so tests
 * can build an app around any pool.
 *
 * @module
 */
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import type { Config } from "./config.ts";
import { ProblemError } from "./errors.ts";
import { accessLog } from "./http/access_log.ts";
import { apiKeys } from "./http/api_keys.ts";
import { rateLimit } from "./http/rate_limit.ts";
import { notFound, onError } from "./http/on_error.ts";
import type { WorkerPool } from "./worker/pool.ts";
import { inferRoutes } from "../routes/infer.ts";
import { metaRoutes, type ServiceInfo } from "../routes/meta.ts";

/** What {@linkcode createApp} needs. */
export interface AppDeps {
  config: Config;
  pool: WorkerPool;
  info: ServiceInfo;
  /** sha256 digests of accepted API keys; undefined = open service. */
  keyHashes?: Uint8Array[];
  /** Write access-log lines here (default: stdout). */
  log?: (line: string) => void;
}

/**
 * Assembles middleware and routes.
 *
 * Request lifecycle: request id -> access log -> CORS -> API key -> rate limit -> body limit -> route
 * (read upload -> worker pool -> JSON) -> problem+json on any error.
 *
 * @param deps Configuration, worker pool and model facts.
 * @returns The application; serve it with `Deno.serve(app.fetch)`.
 */
export function createApp(deps: AppDeps): Hono {
  const { config, pool, info } = deps;
  const app = new Hono();
  app.use(requestId({ limitLength: 128 }));
  app.use(accessLog(deps.log ? { write: deps.log } : {}));
  if (config.corsOrigins.length > 0) {
    app.use(cors({ origin: config.corsOrigins, exposeHeaders: ["X-Request-Id", "Server-Timing", "Retry-After"] }));
  }
  if (deps.keyHashes) app.use("/v1/*", apiKeys(deps.keyHashes));
  if (config.rateLimitPerSecond > 0) {
    app.use("/v1/*", rateLimit({ ratePerSecond: config.rateLimitPerSecond, burst: config.rateLimitBurst }));
  }
  app.use(
    "/v1/*",
    bodyLimit({
      maxSize: config.maxBodyBytes,
      onError: () => {
        throw new ProblemError(413, `The body exceeds the limit of ${config.maxBodyBytes} bytes`, {
          extensions: { limit: config.maxBodyBytes },
        });
      },
    }),
  );
  app.route("/", metaRoutes(pool, info));
  app.route("/v1", inferRoutes(pool));
  app.onError(onError);
  app.notFound(notFound);
  return app;
}
