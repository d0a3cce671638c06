/**
 * GET /healthz, /v1/models and /v1/labels: what is running and how well it scores.
 *
 * @module
 */
import { Hono } from "hono";
import type { JobRunner } from "../lib/worker/pool.ts";
import type { ServiceInfo } from "../lib/service_info.ts";

/**
 * Builds the metadata routes.
 *
 * @param pool Worker pool, for its load figures.
 * @param info Model facts.
 */
export function metaRoutes(pool: JobRunner, info: ServiceInfo): Hono {
  const app = new Hono();
  // `loaded` names what has been loaded so far (encoders, translators, sharp, ffmpeg): they load on first use.
  app.get("/healthz", (c) => {
    const { loaded, ...workers } = pool.stats();
    return c.json({ status: "ok", workers, loaded });
  });
  app.get("/v1/models", (c) => c.json({ encoders: info.encoders, joint: info.joint ?? null }));
  app.get("/v1/labels", (c) => c.json({ labels: info.labels }));
  return app;
}
