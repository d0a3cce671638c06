/**
 * GET /healthz, /v1/models and /v1/labels: what is running and how well it scores.
 *
 * @module
 */
import { Hono } from "hono";
import type { WorkerPool } from "../lib/worker/pool.ts";

/** Static facts about the deployed models, gathered at start. */
export interface ServiceInfo {
  /** Encoder cards (name, source, sha256, input spec, output dim). */
  encoders: unknown[];
  /** Trained joint-space artifacts from models/manifest.json, if deployed. */
  joint?: Record<string, unknown>;
  /** Instrument labels the classifier predicts. */
  labels: string[];
}

/**
 * Builds the metadata routes.
 *
 * @param pool Worker pool, for its load figures.
 * @param info Model facts.
 */
export function metaRoutes(pool: WorkerPool, info: ServiceInfo): Hono {
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok", workers: pool.stats() }));
  app.get("/v1/models", (c) => c.json({ encoders: info.encoders, joint: info.joint ?? null }));
  app.get("/v1/labels", (c) => c.json({ labels: info.labels }));
  return app;
}
