/**
 * POST /v1/embed, POST /v1/classify and GET /v1/results/{sha256}: read the upload, answer from the
 * content cache or the worker pool, shape the JSON answer and its headers (ETag, x-cache, Server-Timing).
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ProblemError } from "../lib/errors.ts";
import { readUpload } from "../lib/http/read_upload.ts";
import type { CachedClassify, CachedEmbed, CachedInference } from "../lib/http/cached_inference.ts";
import { float32Base64, shortestFloat32 } from "../lib/http/float32.ts";
import type { Timings } from "../lib/pipeline.ts";
import {
  ClassifyResultSchema,
  EmbedResultSchema,
  Encoding,
  Op,
  openApiRouter,
  problems,
  query,
  Space,
  TopK,
  UploadBody,
} from "./schemas.ts";

const INFER_ERRORS = [400, 401, 413, 415, 422, 429, 500, 503, 504] as const;

const cacheHeaders = {
  ETag: { schema: { type: "string" as const }, description: "From the input's sha256 and the model version" },
  "x-cache": { schema: { type: "string" as const, enum: ["hit", "miss"] } },
  "Content-Location": {
    schema: { type: "string" as const },
    description: "GET this to read the result again without the file (`/v1/results/{sha256}?...`)",
  },
  "Server-Timing": {
    schema: { type: "string" as const },
    description:
      "Per-stage milliseconds (decode, features, encoder, translator (only when not fused into the encoder's graph), " +
      "classifier, presence); only the stages the answer needed, only when inference ran",
  },
};

const classifyRoute = createRoute({
  method: "post",
  path: "/classify",
  summary: "Classify a sound or a picture",
  description: "Detects the modality from the bytes and answers the instrument label with every label's score.",
  request: { query: query({ top_k: TopK }), body: UploadBody },
  responses: {
    200: {
      description: "The classification",
      headers: cacheHeaders,
      content: { "application/json": { schema: ClassifyResultSchema } },
    },
    ...problems(404, ...INFER_ERRORS),
  },
});

const embedRoute = createRoute({
  method: "post",
  path: "/embed",
  summary: "Embed a sound or a picture",
  description: "The 128-d joint-space vector (default) or the raw encoder embedding (`space=encoder`), float32.",
  request: { query: query({ space: Space, encoding: Encoding }), body: UploadBody },
  responses: {
    200: {
      description: "The embedding",
      headers: cacheHeaders,
      content: { "application/json": { schema: EmbedResultSchema } },
    },
    ...problems(404, ...INFER_ERRORS),
  },
});

const resultRoute = createRoute({
  method: "get",
  path: "/results/{sha256}",
  summary: "A result computed before, by the sha256 of its input",
  description: "Results are kept in memory (up to AMODAL_CACHE_BYTES, least recently used first out). " +
    "A result for one input and model never changes, so the answer is `immutable` and a CDN may keep it; " +
    "`model` pins the model version (404 when another one is deployed).",
  request: {
    params: z.object({
      sha256: z.string().regex(/^[0-9a-f]{64}$/, { error: "sha256 must be 64 lowercase hex characters" })
        .openapi({ param: { name: "sha256", in: "path" } }),
    }),
    query: query({
      op: Op,
      top_k: TopK,
      space: Space,
      encoding: Encoding,
      model: z.string().optional().openapi({ param: { name: "model", in: "query" } }),
    }),
  },
  responses: {
    200: {
      description: "The cached result",
      headers: {
        ETag: cacheHeaders.ETag,
        "Cache-Control": { schema: { type: "string" as const, example: "public, max-age=31536000, immutable" } },
      },
      content: { "application/json": { schema: z.union([ClassifyResultSchema, EmbedResultSchema]) } },
    },
    304: { description: "Not modified (If-None-Match matched the ETag)" },
    ...problems(400, 401, 404, 429),
  },
});

/**
 * Builds the inference routes.
 *
 * @param inference Worker pool behind the content cache.
 * @returns A router with `/embed`, `/classify` and `/results/{sha256}`.
 */
export function inferRoutes(inference: CachedInference): OpenAPIHono {
  const app = openApiRouter();

  app.openapi(classifyRoute, async (c) => {
    const { top_k: topK } = c.req.valid("query");
    const out = await inference.run({ op: "classify" }, await readUpload(c.req.raw));
    const location = resultsPath(inference, out.sha256, topK === undefined ? {} : { top_k: String(topK) });
    setCacheHeaders(c, inference, out, `classify top_k=${topK ?? ""}`, location);
    return c.json(classifyBody(out.result, out.sha256, topK), 200);
  });

  app.openapi(embedRoute, async (c) => {
    const { space = "joint", encoding = "float" } = c.req.valid("query");
    const out = await inference.run({ op: "embed", space }, await readUpload(c.req.raw));
    const location = resultsPath(inference, out.sha256, { op: "embed", space, encoding });
    setCacheHeaders(c, inference, out, `embed space=${space} encoding=${encoding}`, location);
    return c.json(embedBody(out.result, out.sha256, inference.model, encoding), 200);
  });

  app.openapi(resultRoute, (c) => {
    const { sha256 } = c.req.valid("param");
    const { op = "classify", top_k: topK, space = "joint", encoding = "float", model } = c.req.valid("query");
    if (model !== undefined && model !== inference.model) {
      throw new ProblemError(404, `Model ${model} is not deployed; the current model is ${inference.model}`);
    }
    const result = op === "classify" ? inference.lookup(sha256, { op }) : inference.lookup(sha256, { op, space });
    if (!result) {
      throw new ProblemError(
        404,
        `No cached ${op} result for ${sha256}: results are kept in memory only while space allows; ` +
          `POST the file to /v1/${op}`,
      );
    }
    const etag = inference.etag(
      sha256,
      op === "classify" ? `classify top_k=${topK ?? ""}` : `embed space=${space} encoding=${encoding}`,
    );
    c.header("etag", etag);
    c.header("cache-control", "public, max-age=31536000, immutable");
    c.header("x-cache", "hit");
    if (matches(c.req.header("if-none-match"), etag)) return c.body(null, 304);
    const body = op === "classify"
      ? classifyBody(result as CachedClassify, sha256, topK)
      : embedBody(result as CachedEmbed, sha256, inference.model, encoding);
    return c.json(body, 200);
  });

  return app;
}

/**
 * The classify answer: the cached result with `scores` trimmed to `topK`.
 *
 * @param result The cached result.
 * @param sha256 Its input's sha256.
 * @param topK Scores to keep (all when undefined).
 * @returns The JSON body.
 */
export function classifyBody(result: CachedClassify, sha256: string, topK: number | undefined) {
  const { audio, modalities, ...rest } = result;
  const trim = <T>(list: T[]) => topK === undefined ? list : list.slice(0, topK);
  return {
    ...rest,
    scores: trim(result.scores),
    sha256,
    ...(audio ? { audio } : {}),
    // A video's per-modality scores are trimmed like the answer's.
    ...(modalities
      ? {
        modalities: {
          ...(modalities.audio ? { audio: { ...modalities.audio, scores: trim(modalities.audio.scores) } } : {}),
          ...(modalities.image ? { image: { ...modalities.image, scores: trim(modalities.image.scores) } } : {}),
        },
      }
      : {}),
  };
}

/**
 * The embed answer in the requested encoding.
 *
 * @param result The cached result.
 * @param sha256 Its input's sha256.
 * @param model The model version.
 * @param encoding `float` (JSON numbers) or `base64` (little-endian float32).
 * @returns The JSON body.
 */
export function embedBody(result: CachedEmbed, sha256: string, model: string, encoding: "float" | "base64") {
  const { embedding, audio, modalities, ...rest } = result;
  const encode = (vector: ArrayLike<number>) =>
    encoding === "base64" ? float32Base64(vector) : Array.from(vector, shortestFloat32);
  return {
    ...rest,
    encoding,
    embedding: encode(embedding),
    model,
    sha256,
    ...(audio ? { audio } : {}),
    // A video's per-modality vectors, in the same encoding.
    ...(modalities
      ? {
        modalities: Object.fromEntries(
          Object.entries(modalities).map(([name, m]) => [name, { ...m, embedding: encode(m.embedding) }]),
        ),
      }
      : {}),
  };
}

function resultsPath(inference: CachedInference, sha256: string, params: Record<string, string>): string {
  const search = new URLSearchParams({ ...params, model: inference.model });
  return `/v1/results/${sha256}?${search}`;
}

function setCacheHeaders(
  c: Context,
  inference: CachedInference,
  out: { sha256: string; cached: boolean; timings?: Timings },
  variant: string,
  location: string,
): void {
  c.header("etag", inference.etag(out.sha256, variant));
  c.header("x-cache", out.cached ? "hit" : "miss");
  c.header("content-location", location);
  if (out.timings) c.header("server-timing", serverTiming(out.timings));
}

/**
 * Formats stage timings as a `Server-Timing` value.
 *
 * @param timings Milliseconds per stage.
 * @returns e.g. `decode;dur=1.00, encoder;dur=2.00`.
 */
export function serverTiming(timings: Timings): string {
  return Object.entries(timings).map(([stage, ms]) => `${stage};dur=${ms.toFixed(2)}`).join(", ");
}

function matches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  return ifNoneMatch.trim() === "*" ||
    ifNoneMatch.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}
