/**
 * POST /v1/batch: several files in one request (multipart parts, or JSON with base64 items), each answered
 * in order with its own status, so one bad file does not fail the others. Items go through the same
 * content cache and worker pool as single requests, a few at a time so a batch cannot fill the queue
 * other clients wait in.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { ProblemError } from "../lib/errors.ts";
import type { CachedInference } from "../lib/http/cached_inference.ts";
import type { InflightBudget } from "../lib/http/inflight_budget.ts";
import { heldBy } from "../lib/http/memory_budget.ts";
import { classifyBody, embedBody } from "./infer.ts";
import {
  BatchRequestSchema,
  BatchResultSchema,
  Encoding,
  Op,
  openApiRouter,
  problems,
  query,
  Space,
  TopK,
} from "./schemas.ts";

/** Items of one batch in flight at once: enough to keep two workers busy, few enough to leave room in the queue. */
const CONCURRENCY = 2;

/** The route's description, also the README's. */
const DESCRIPTION = "Several files in one request: multipart with one `file` part per item, or JSON " +
  '`{"items": [{"name", "data": base64}]}`. Each item is answered in order with its own `status` and `result` ' +
  "or `problem`. At most AMODAL_BATCH_MAX_ITEMS items (default 32) and AMODAL_MAX_BODY_BYTES in all (413 beyond).";

/** How a batch's items share the in-flight memory budget. */
export interface BatchMemory {
  /** The budget every request's body and decode are counted against. */
  budget: InflightBudget;
  /** Decode bytes one item will cost (the estimate the budget middleware makes for a single upload). */
  estimate: (bytes: Uint8Array) => number;
}

/**
 * Builds the batch route.
 *
 * @param inference Worker pool behind the content cache.
 * @param maxItems Most items per request.
 * @param memory When given, each item reserves its decode size from the budget while it runs (the middleware
 *   counted only the body and its first file's decode), waiting for room or answering that item 503.
 * @returns A router with `/batch`.
 */
export function batchRoutes(inference: CachedInference, maxItems: number, memory?: BatchMemory): OpenAPIHono {
  const app = openApiRouter();
  const route = createRoute({
    method: "post",
    path: "/batch",
    summary: "Classify or embed several files",
    description: DESCRIPTION,
    request: {
      query: query({
        op: Op,
        top_k: TopK,
        space: Space,
        encoding: Encoding,
      }),
      body: {
        // Not "required": with it the JSON validator would also run on multipart bodies.
        required: false,
        content: {
          "application/json": { schema: BatchRequestSchema },
          "multipart/form-data": {
            schema: {
              type: "object",
              properties: { file: { type: "array", items: { type: "string", format: "binary" } } },
            },
          },
        },
      },
    },
    responses: {
      200: { description: "One answer per item", content: { "application/json": { schema: BatchResultSchema } } },
      ...problems(400, 401, 413, 415, 429),
    },
  });

  app.openapi(route, async (c) => {
    const { op = "classify", top_k: topK, space = "joint", encoding = "float" } = c.req.valid("query");
    const type = c.req.header("content-type") ?? "";
    const items = type.startsWith("multipart/form-data")
      ? await multipartItems(c.req.raw)
      : ((c.req.valid("json" as never) as Partial<z.infer<typeof BatchRequestSchema>>).items ?? []).map((
        item,
        index,
      ) => ({
        name: item.name,
        read: () => base64(item.data, index),
      }));
    if (items.length === 0) throw new ProblemError(400, "The batch has no items");
    if (items.length > maxItems) {
      throw new ProblemError(413, `The batch has ${items.length} items; the limit is ${maxItems}`, {
        extensions: { limit: maxItems },
      });
    }
    const answers = new Array(items.length);
    let next = 0;
    // Bytes this request holds beyond its body: its items' reservations running now.
    let itemsHeld = 0;
    const answer = async (bytes: Uint8Array) => {
      if (op === "classify") {
        const out = await inference.run({ op }, bytes);
        return { status: 200, cached: out.cached, result: classifyBody(out.result, out.sha256, topK) };
      }
      const out = await inference.run({ op, space }, bytes);
      return { status: 200, cached: out.cached, result: embedBody(out.result, out.sha256, inference.model, encoding) };
    };
    const work = async () => {
      for (let index = next++; index < items.length; index = next++) {
        const { name, read } = items[index]!;
        const head = { index, ...(name !== undefined ? { name } : {}) };
        try {
          const bytes = read();
          if (bytes.length === 0) throw new ProblemError(400, `Item ${index} is empty`);
          const cost = memory?.estimate(bytes) ?? 0;
          if (cost > 0) {
            await memory!.budget.take(cost, c.req.raw.signal, heldBy(c.req.raw) + itemsHeld);
            itemsHeld += cost;
          }
          try {
            answers[index] = { ...head, ...await answer(bytes) };
          } finally {
            if (cost > 0) {
              itemsHeld -= cost;
              memory!.budget.give(cost);
            }
          }
        } catch (error) {
          const problem = error instanceof ProblemError
            ? error
            : new ProblemError(500, "Internal error; the request id identifies it in the logs");
          if (!(error instanceof ProblemError)) {
            console.error(JSON.stringify({ level: "error", batchItem: index, error: String(error) }));
          }
          answers[index] = { ...head, status: problem.status, problem: problem.toProblem() };
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, work));
    return c.json({ op, model: inference.model, items: answers }, 200);
  });
  return app;
}

interface Item {
  name: string | undefined;
  read: () => Uint8Array;
}

async function multipartItems(request: Request): Promise<Item[]> {
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    throw new ProblemError(400, "The multipart body could not be parsed");
  }
  const parts = form.getAll("file");
  const files = await Promise.all(
    parts.map(async (part) =>
      typeof part === "string"
        ? { name: undefined, bytes: new TextEncoder().encode(part) }
        : { name: part.name || undefined, bytes: new Uint8Array(await part.arrayBuffer()) }
    ),
  );
  return files.map(({ name, bytes }) => ({ name, read: () => bytes }));
}

function base64(data: string, index: number): Uint8Array {
  const clean = data.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(clean) || clean.replace(/=+$/, "").length % 4 === 1) {
    throw new ProblemError(400, `Item ${index}: data is not valid base64`);
  }
  const padded = clean.replace(/=+$/, "").padEnd(Math.ceil(clean.replace(/=+$/, "").length / 4) * 4, "=");
  return Uint8Array.from(atob(padded), (ch) => ch.charCodeAt(0));
}
