/**
 * The HTTP surface: middleware and routes assembled into one Hono app. No I/O happens here, so tests
 * call `app.request()` in-process around any pool.
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import { cors } from "hono/cors";
import type { Config } from "../lib/config.ts";
import { accessLog } from "../lib/http/access_log.ts";
import { apiKeys } from "../lib/http/api_keys.ts";
import { CachedInference } from "../lib/http/cached_inference.ts";
import { methodNotAllowed } from "../lib/http/method_not_allowed.ts";
import { rateLimit } from "../lib/http/rate_limit.ts";
import { InflightBudget } from "../lib/http/inflight_budget.ts";
import { memoryBudget } from "../lib/http/memory_budget.ts";
import { createByteReclaimer } from "../lib/worker/reclaim.ts";
import { estimateDecodeBytes } from "../lib/media/decode_cost.ts";
import { requestId } from "../lib/http/request_id.ts";
import { onError } from "../lib/http/on_error.ts";
import type { JobRunner } from "../lib/worker/pool.ts";
import { batchRoutes } from "./batch.ts";
import { collectionRoutes } from "./collections.ts";
import { CollectionStore, openKv } from "../lib/collections/store.ts";
import { loadTeachRule, type TeachRule } from "../lib/collections/teach.ts";
import { inferRoutes } from "./infer.ts";
import { metaRoutes } from "./meta.ts";
import { pageRoutes } from "./pages.ts";
import { openApiRouter } from "./schemas.ts";
import type { ServiceInfo } from "../lib/service_info.ts";

/** What {@linkcode createApp} needs. */
export interface AppDeps {
  config: Config;
  pool: JobRunner;
  info: ServiceInfo;
  /** sha256 digests of accepted API keys; undefined = open service. */
  keyHashes?: Uint8Array[];
  /** Write access-log lines here (default: stdout). */
  log?: (line: string) => void;
  /** Memory budget of requests in flight (default: one of `config.maxInflightBytes`); tests pass one to inspect. */
  budget?: InflightBudget;
  /** The collections' store (default: one on `config.kvUrl`, opened on first use). */
  collections?: CollectionStore;
}

/**
 * Assembles middleware and routes.
 *
 * Request lifecycle: request id -> access log -> CORS -> API key -> rate limit -> memory budget (body
 * limit, body read, 503 when in-flight memory is short) -> route (validate query -> read upload -> content
 * cache or worker pool -> JSON) -> problem+json on any error; the request id is set on whatever response
 * comes back.
 *
 * @param deps Configuration, worker pool and model facts.
 * @returns The application; serve it with `Deno.serve(app.fetch)`.
 */
export function createApp(deps: AppDeps): OpenAPIHono {
  const { config, pool, info } = deps;
  const app = openApiRouter();
  app.use(requestId({ limitLength: 128 }));
  app.use(accessLog(deps.log ? { write: deps.log } : {}));
  if (config.corsOrigins.length > 0) {
    app.use(cors({
      origin: config.corsOrigins,
      exposeHeaders: ["X-Request-Id", "Server-Timing", "Retry-After", "ETag", "X-Cache", "Content-Location"],
    }));
  }
  if (deps.keyHashes) app.use("/v1/*", apiKeys(deps.keyHashes));
  if (config.rateLimitPerSecond > 0) {
    app.use("/v1/*", rateLimit({ ratePerSecond: config.rateLimitPerSecond, burst: config.rateLimitBurst }));
  }
  const budget = deps.budget ?? new InflightBudget({ capacity: config.maxInflightBytes });
  const estimate = (head: Uint8Array, totalBytes: number | undefined) =>
    estimateDecodeBytes(head, {
      ...(totalBytes === undefined ? {} : { totalBytes }),
      maxAudioSeconds: config.maxAudioSeconds,
      maxPixels: config.maxImagePixels,
    });
  app.use(
    "/v1/*",
    memoryBudget({
      budget,
      maxBodyBytes: config.maxBodyBytes,
      onRelease: createByteReclaimer().released,
      estimate: (head, totalBytes) => estimate(head, totalBytes),
    }),
  );
  const model = typeof info.joint?.version === "string" ? info.joint.version : "none";
  const inference = new CachedInference(pool, { cacheBytes: config.cacheBytes, model });
  app.route("/", metaRoutes(pool, info));
  app.route("/v1", inferRoutes(inference));
  app.route(
    "/v1",
    batchRoutes(inference, config.batchMaxItems, {
      budget,
      estimate: (bytes) => estimate(bytes, bytes.length),
    }),
  );
  const store = deps.collections ??
    new CollectionStore({ open: () => openKv(config.kvUrl), maxItems: config.collectionMaxItems });
  let teachRule: Promise<TeachRule> | undefined;
  app.route(
    "/v1",
    collectionRoutes({
      store,
      pool,
      inference,
      model,
      teachRule: () => teachRule ??= loadTeachRule(config.modelsDir),
    }),
  );
  app.route("/", pageRoutes(() => openApiDocument(app, model), { modelsDir: config.modelsDir }));
  app.onError(onError);
  app.notFound(methodNotAllowed(app.routes));
  return app;
}

function openApiDocument(app: OpenAPIHono, model: string): unknown {
  return app.getOpenAPI31Document({
    openapi: "3.1.0",
    info: {
      title: "amodal",
      version: model,
      description: "Recognises one of 18 musical instruments from a sound or a picture. " +
        "Errors are application/problem+json; every response carries X-Request-Id.",
    },
  });
}
