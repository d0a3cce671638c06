/**
 * GET /healthz, /v1/models and /v1/labels: what is running and how well it scores. Models and labels
 * change only with a deployment, so they carry an ETag (If-None-Match answers 304) and a short
 * Cache-Control.
 *
 * @module
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { etag } from "hono/etag";
import type { JobRunner } from "../lib/worker/pool.ts";
import type { ServiceInfo } from "../lib/service_info.ts";
import { HealthSchema, LabelsSchema, ModelsSchema, openApiRouter, problems, query } from "./schemas.ts";

/** How long clients and CDNs may reuse /v1/models and /v1/labels before revalidating with the ETag. */
const META_CACHE_CONTROL = "public, max-age=300";

const revalidated = {
  ETag: { schema: { type: "string" as const } },
  "Cache-Control": { schema: { type: "string" as const, example: META_CACHE_CONTROL } },
};

const healthRoute = createRoute({
  method: "get",
  path: "/healthz",
  summary: "Liveness and worker load",
  request: { query: query({}) },
  responses: {
    200: { description: "Serving", content: { "application/json": { schema: HealthSchema } } },
    ...problems(400),
  },
});

const modelsRoute = createRoute({
  method: "get",
  path: "/v1/models",
  summary: "Encoders and the trained joint space, with its measured scores",
  request: { query: query({}) },
  middleware: [etag()] as const,
  responses: {
    200: {
      description: "The deployed models",
      headers: revalidated,
      content: { "application/json": { schema: ModelsSchema } },
    },
    304: { description: "Not modified" },
    ...problems(400, 401, 429),
  },
});

const labelsRoute = createRoute({
  method: "get",
  path: "/v1/labels",
  summary: "The labels the classifier answers",
  request: { query: query({}) },
  middleware: [etag()] as const,
  responses: {
    200: {
      description: "The labels",
      headers: revalidated,
      content: { "application/json": { schema: LabelsSchema } },
    },
    304: { description: "Not modified" },
    ...problems(400, 401, 429),
  },
});

/**
 * Builds the metadata routes.
 *
 * @param pool Worker pool, for its load figures.
 * @param info Model facts.
 * @returns A router with `/healthz`, `/v1/models` and `/v1/labels`.
 */
export function metaRoutes(pool: JobRunner, info: ServiceInfo): OpenAPIHono {
  const app = openApiRouter();
  // `loaded` names what has been loaded so far (encoders, translators, sharp, ffmpeg): they load on first use.
  app.openapi(healthRoute, (c) => {
    const { loaded, ...workers } = pool.stats();
    return c.json({ status: "ok" as const, workers, loaded }, 200);
  });
  app.openapi(modelsRoute, (c) => {
    c.header("cache-control", META_CACHE_CONTROL);
    return c.json({ encoders: info.encoders as Record<string, unknown>[], joint: info.joint ?? null }, 200);
  });
  app.openapi(labelsRoute, (c) => {
    c.header("cache-control", META_CACHE_CONTROL);
    return c.json({ labels: info.labels }, 200);
  });
  return app;
}
