/**
 * POST /v1/embed and POST /v1/classify: read the upload, hand it to the
 * worker pool, shape the JSON answer and its Server-Timing header.
 *
 * @module
 */
import { Hono } from "hono";
import { ProblemError } from "../lib/errors.ts";
import { readUpload } from "../lib/http/read_upload.ts";
import type { JobRunner } from "../lib/worker/pool.ts";
import type { Timings } from "../lib/pipeline.ts";

/**
 * Builds the inference routes.
 *
 * @param pool Workers that run the pipeline.
 * @returns A Hono sub-app with `/embed` and `/classify`.
 */
export function inferRoutes(pool: JobRunner): Hono {
  const app = new Hono();

  app.post("/embed", async (c) => {
    const space = c.req.query("space") ?? "joint";
    if (space !== "joint" && space !== "encoder") {
      throw new ProblemError(400, `Unknown space "${space}"; use "joint" or "encoder"`);
    }
    const bytes = await readUpload(c.req.raw);
    const result = await pool.run({ op: "embed", bytes, options: { space } });
    return respond(result);
  });

  app.post("/classify", async (c) => {
    const raw = c.req.query("top_k");
    let topK: number | undefined;
    if (raw !== undefined) {
      topK = Number(raw);
      if (!Number.isInteger(topK) || topK < 1) {
        throw new ProblemError(400, `top_k must be a positive integer, got "${raw}"`);
      }
    }
    const bytes = await readUpload(c.req.raw);
    const result = await pool.run({ op: "classify", bytes, options: { topK } });
    return respond(result);
  });

  return app;
}

function respond(result: { timings: Timings }): Response {
  const { timings, ...body } = result;
  const serverTiming = Object.entries(timings).map(([stage, ms]) => `${stage};dur=${ms.toFixed(2)}`).join(", ");
  return new Response(JSON.stringify(body), {
    headers: { "content-type": "application/json", "server-timing": serverTiming },
  });
}
