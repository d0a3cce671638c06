/**
 * Collections: store files' joint embeddings under ids, list and delete them, search a collection by a
 * file or a vector (pictures for a sound, sounds for a picture), and answer labels its items teach.
 * Storage and search are `lib/collections/`; this file parses requests and shapes answers.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ProblemError } from "../lib/errors.ts";
import { readUpload } from "../lib/http/read_upload.ts";
import { type CachedInference, sha256Hex } from "../lib/http/cached_inference.ts";
import { checkId, checkName } from "../lib/collections/names.ts";
import type { CollectionStore, StoredItem } from "../lib/collections/store.ts";
import { decodeInt8 } from "../lib/collections/vector_codec.ts";
import { nearestTaught, type TeachRule } from "../lib/collections/teach.ts";
import { shortestFloat32 } from "../lib/http/float32.ts";
import type { JobRunner } from "../lib/worker/pool.ts";
import { vectorModality } from "../lib/video_pipeline.ts";
import { LabelScoreSchema, Modality, Model, openApiRouter, problems, query, Sha256 } from "./schemas.ts";

/** Largest `metadata`, as JSON text. */
export const MAX_METADATA_BYTES = 4096;
/** Largest `top_k` of a search. */
export const MAX_TOP_K = 1000;
/** Largest page of `GET .../items`. */
export const MAX_PAGE = 1000;

const NameParam = z.string().openapi({
  param: { name: "name", in: "path" },
  description: "1-64 letters, digits, `.`, `_`, `-`",
  example: "photos",
});
const IdParam = z.string().openapi({
  param: { name: "id", in: "path" },
  description: "1-200 letters, digits or `. _ - ~ : @ + =`",
  example: "violin-001.jpg",
});

const CollectionFactsSchema = z.object({
  name: z.string(),
  items: z.number().int().openapi({ description: "Items stored" }),
  dim: z.number().int().nullable().openapi({ description: "Dimensions of its vectors (null: empty)" }),
  model: Model,
  staleItems: z.number().int().openapi({
    description: "Items embedded by another model version than the deployed one: re-put them (the CLI " +
      "`deno task index` does) to search them in the current space",
  }),
}).openapi("CollectionFacts");

const ItemSchema = z.object({
  id: z.string(),
  modality: Modality,
  prediction: z.object({
    label: z.string().nullable().openapi({ description: "The built-in classifier's label; null: no instrument" }),
    score: z.number().nullable(),
  }),
  sha256: Sha256,
  model: Model.openapi({ description: "Model version that computed the embedding" }),
  stale: z.boolean().openapi({ description: "true when `model` is not the deployed version" }),
  metadata: z.record(z.string(), z.unknown()).nullable(),
  storedAt: z.string(),
  embedding: z.array(z.number()).optional().openapi({
    description: "The stored joint embedding (int8 + scale, decoded), on `GET` of one item",
  }),
}).openapi("CollectionItem");

const PutResultSchema = z.object({
  outcome: z.enum(["created", "replaced", "unchanged"]).openapi({
    description: "`unchanged`: the same content (sha256), model and metadata were already stored under this id",
  }),
  item: ItemSchema,
  collection: CollectionFactsSchema,
}).openapi("CollectionPut");

const ItemResultSchema = z.object({ item: ItemSchema, collection: CollectionFactsSchema }).openapi("CollectionGet");

const ListSchema = z.object({
  collection: CollectionFactsSchema,
  items: z.array(ItemSchema),
  cursor: z.string().nullable().openapi({ description: "Pass as `cursor` for the next page; null on the last" }),
}).openapi("CollectionList");

const DeletedSchema = z.object({
  deleted: z.number().int().openapi({ description: "Items deleted" }),
  collection: CollectionFactsSchema,
}).openapi("CollectionDeleted");

const HitSchema = z.object({
  id: z.string(),
  score: z.number().openapi({ description: "Cosine similarity in the joint space, -1..1" }),
  modality: Modality,
  prediction: ItemSchema.shape.prediction,
  metadata: ItemSchema.shape.metadata,
  model: Model,
  stale: z.boolean(),
}).openapi("SearchHit");

const SearchResultSchema = z.object({
  query: z.object({
    modality: Modality.optional().openapi({ description: "The file's modality (absent for a vector query)" }),
    sha256: Sha256.optional(),
  }),
  results: z.array(HitSchema).openapi({ description: "By decreasing score" }),
  collection: CollectionFactsSchema,
}).openapi("SearchResult");

const TaughtSchema = z.object({
  label: z.string().nullable().openapi({ description: "Nearest taught label; null below `threshold`" }),
  score: z.number().nullable(),
  scores: z.array(z.object({ label: z.string(), score: z.number(), examples: z.number().int() })),
  method: z.enum(["prototype", "knn"]),
  threshold: z.number(),
}).openapi("TaughtAnswer");

const CollectionClassifySchema = z.object({
  modality: Modality,
  sha256: Sha256,
  taught: TaughtSchema.openapi({ description: "Labels this collection's items teach (metadata `label`)" }),
  builtIn: z.object({
    label: z.string().nullable(),
    score: z.number().nullable(),
    scores: z.array(LabelScoreSchema).openapi({ description: "Top 3" }),
  }).openapi({ description: "The built-in 18-label classifier's answer" }),
  collection: CollectionFactsSchema,
}).openapi("CollectionClassify");

const TopK = z.coerce.number({
  error: (i) => `top_k must be an integer 1-${MAX_TOP_K}, got ${JSON.stringify(i.input)}`,
})
  .int({ error: (i) => `top_k must be an integer 1-${MAX_TOP_K}, got ${i.input}` })
  .min(1, { error: (i) => `top_k must be an integer 1-${MAX_TOP_K}, got ${i.input}` })
  .max(MAX_TOP_K, { error: (i) => `top_k must be an integer 1-${MAX_TOP_K}, got ${i.input}` })
  .optional()
  .openapi({ param: { name: "top_k", in: "query" }, type: "integer", minimum: 1, maximum: MAX_TOP_K, example: 5 });
const ModalityFilter = z.enum(["audio", "image"], {
  error: (i) => `Unknown modality ${JSON.stringify(i.input)}; use "audio" or "image"`,
}).optional().openapi({
  param: { name: "modality", in: "query" },
  description: "Only items of this modality (`image`: pictures for a sound)",
});

const FileOrMetadataBody = {
  required: true,
  description: "The file: raw bytes, or multipart with field `file` and optional `metadata` (a JSON object, " +
    `at most ${MAX_METADATA_BYTES} bytes; a string \`label\` in it teaches that label)`,
  content: {
    "application/octet-stream": { schema: { type: "string" as const, format: "binary" } },
    "multipart/form-data": {
      schema: {
        type: "object" as const,
        properties: { file: { type: "string" as const, format: "binary" }, metadata: { type: "string" as const } },
        required: ["file"],
      },
    },
  },
};

const SearchBody = {
  required: true,
  description: 'A file (raw or multipart `file`), or JSON `{"embedding": [...]}` with the collection\'s dimensions',
  content: {
    ...FileOrMetadataBody.content,
    "application/json": {
      schema: {
        type: "object" as const,
        properties: { embedding: { type: "array" as const, items: { type: "number" as const } } },
        required: ["embedding"],
      },
    },
  },
};

const ERRORS = [400, 401, 413, 415, 422, 429, 503, 504] as const;
const json = <T extends z.ZodType>(schema: T, description: string) => ({
  description,
  content: { "application/json": { schema } },
});

const putRoute = createRoute({
  method: "put",
  path: "/collections/{name}/items/{id}",
  summary: "Store a file's joint embedding in a collection",
  description: "Embeds and classifies the file and stores the joint embedding, modality, predicted label, sha256, " +
    "model version and metadata under `id` (the file itself is not kept). Putting the same content again is a no-op.",
  request: { params: z.object({ name: NameParam, id: IdParam }), query: query({}), body: FileOrMetadataBody },
  responses: {
    200: json(PutResultSchema, "Replaced, or unchanged"),
    201: json(PutResultSchema, "Created"),
    ...problems(409, ...ERRORS),
  },
});

const getRoute = createRoute({
  method: "get",
  path: "/collections/{name}/items/{id}",
  summary: "One stored item, with its embedding",
  request: { params: z.object({ name: NameParam, id: IdParam }), query: query({}) },
  responses: { 200: json(ItemResultSchema, "The item"), ...problems(400, 401, 404, 429, 503) },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/collections/{name}/items/{id}",
  summary: "Delete one item",
  request: { params: z.object({ name: NameParam, id: IdParam }), query: query({}) },
  responses: { 200: json(DeletedSchema, "Deleted"), ...problems(400, 401, 404, 429, 503) },
});

const listRoute = createRoute({
  method: "get",
  path: "/collections/{name}/items",
  summary: "List a collection's items in id order",
  request: {
    params: z.object({ name: NameParam }),
    query: query({
      cursor: z.string().max(1000).optional().openapi({ param: { name: "cursor", in: "query" } }),
      limit: z.coerce.number({ error: (i) => `limit must be an integer 1-${MAX_PAGE}, got ${JSON.stringify(i.input)}` })
        .int({ error: (i) => `limit must be an integer 1-${MAX_PAGE}, got ${i.input}` })
        .min(1, { error: (i) => `limit must be an integer 1-${MAX_PAGE}, got ${i.input}` })
        .max(MAX_PAGE, { error: (i) => `limit must be an integer 1-${MAX_PAGE}, got ${i.input}` })
        .optional()
        .openapi({ param: { name: "limit", in: "query" }, type: "integer", description: "Default 100" }),
    }),
  },
  responses: { 200: json(ListSchema, "A page of items"), ...problems(400, 401, 404, 429, 503) },
});

const dropRoute = createRoute({
  method: "delete",
  path: "/collections/{name}",
  summary: "Delete a collection and all its items",
  request: { params: z.object({ name: NameParam }), query: query({}) },
  responses: { 200: json(DeletedSchema, "Deleted"), ...problems(400, 401, 404, 429, 503) },
});

const searchRoute = createRoute({
  method: "post",
  path: "/collections/{name}/search",
  summary: "Items nearest to a file or a vector",
  description: "Exact cosine search in the joint space. Send a sound with `modality=image` to find pictures that " +
    "go with it, or a picture with `modality=audio` for sounds.",
  request: {
    params: z.object({ name: NameParam }),
    query: query({ top_k: TopK, modality: ModalityFilter }),
    body: SearchBody,
  },
  responses: { 200: json(SearchResultSchema, "Ranked items"), ...problems(404, ...ERRORS) },
});

const classifyRoute = createRoute({
  method: "post",
  path: "/collections/{name}/classify",
  summary: "The nearest label this collection teaches, beside the built-in answer",
  description: "Items whose metadata has a string `label` teach it, in whichever modality they are; a file of " +
    "either modality gets the nearest taught label (none below a calibrated threshold).",
  request: { params: z.object({ name: NameParam }), query: query({}), body: FileOrMetadataBody },
  responses: { 200: json(CollectionClassifySchema, "The answers"), ...problems(404, ...ERRORS) },
});

/** What {@linkcode collectionRoutes} needs. */
export interface CollectionDeps {
  store: CollectionStore;
  pool: JobRunner;
  inference: CachedInference;
  /** The deployed model version. */
  model: string;
  /** The teaching rule (read once, lazily). */
  teachRule: () => Promise<TeachRule>;
}

/**
 * Builds the collection routes.
 *
 * @param deps Store, workers and model version.
 * @returns A router with `/collections/...`.
 */
export function collectionRoutes(deps: CollectionDeps): OpenAPIHono {
  const { store, model } = deps;
  const app = openApiRouter();

  app.openapi(putRoute, async (c) => {
    const { name, id } = params(c);
    const { bytes, metadata } = await readItem(c.req.raw);
    const tenant = tenantOf(c);
    const sha256 = sha256Hex(bytes);
    // Same content already stored by this model: no inference needed to know the answer.
    const existing = await store.get(tenant, name, id);
    if (existing && existing.sha256 === sha256 && existing.model === model) {
      const { outcome, item } = await store.put(tenant, name, { ...withoutStorage(existing), metadata });
      return c.json({ outcome, item: itemBody(item, model), collection: await facts(store, tenant, name, model) }, 200);
    }
    const result = await deps.pool.run({ op: "classify", bytes, options: { embedding: true } });
    if (!result.embedding) throw new Error("The worker did not return the joint embedding");
    const { outcome, item } = await store.put(tenant, name, {
      id,
      modality: vectorModality(result),
      prediction: result.label,
      predictionScore: result.score,
      sha256,
      model: result.model,
      metadata,
      vector: result.embedding,
    });
    const body = { outcome, item: itemBody(item, model), collection: await facts(store, tenant, name, model) };
    return outcome === "created" ? c.json(body, 201) : c.json(body, 200);
  });

  app.openapi(getRoute, async (c) => {
    const { name, id } = params(c);
    const tenant = tenantOf(c);
    const item = await store.get(tenant, name, id);
    if (!item) throw notFound(name, id);
    const embedding = Array.from(decodeInt8(item.vector), shortestFloat32);
    return c.json(
      { item: { ...itemBody(item, model), embedding }, collection: await facts(store, tenant, name, model) },
      200,
    );
  });

  app.openapi(deleteRoute, async (c) => {
    const { name, id } = params(c);
    const tenant = tenantOf(c);
    if (!(await store.delete(tenant, name, id))) throw notFound(name, id);
    return c.json({ deleted: 1, collection: await facts(store, tenant, name, model) }, 200);
  });

  app.openapi(listRoute, async (c) => {
    const name = checkName(c.req.valid("param").name);
    const { cursor, limit = 100 } = c.req.valid("query");
    const tenant = tenantOf(c);
    const page = await store.list(tenant, name, { limit, ...(cursor ? { cursor } : {}) });
    if (!page.meta) throw notFound(name);
    return c.json({
      collection: await facts(store, tenant, name, model),
      items: page.items.map((item) => itemBody(item, model)),
      cursor: page.cursor,
    }, 200);
  });

  app.openapi(dropRoute, async (c) => {
    const name = checkName(c.req.valid("param").name);
    const tenant = tenantOf(c);
    const deleted = await store.drop(tenant, name);
    if (deleted === null) throw notFound(name);
    return c.json({ deleted, collection: { name, items: 0, dim: null, model, staleItems: 0 } }, 200);
  });

  app.openapi(searchRoute, async (c) => {
    const name = checkName(c.req.valid("param").name);
    const { top_k: topK = 10, modality } = c.req.valid("query");
    const tenant = tenantOf(c);
    let vector: ArrayLike<number>;
    let about: { modality?: "audio" | "image"; sha256?: string } = {};
    if (isJson(c.req.raw)) vector = await readVector(c.req.raw);
    else {
      const { bytes } = await readItem(c.req.raw, { metadata: false });
      const out = await deps.inference.run({ op: "embed", space: "joint" }, bytes);
      vector = out.result.embedding;
      about = { modality: vectorModality(out.result), sha256: out.sha256 };
    }
    const held = await store.index(tenant, name);
    if (!held) throw notFound(name);
    if (vector.length !== held.index.dim) {
      throw new ProblemError(
        400,
        `The embedding has ${vector.length} values; collection ${name} holds ${held.index.dim}-d vectors`,
      );
    }
    const hits = held.index.search(vector, topK, modality);
    const items = await store.getMany(tenant, name, held.meta.gen, hits.map((h) => h.id));
    const results = hits.flatMap((hit, i) => {
      const item = items[i];
      // Deleted between the search and the read: leave it out rather than answer a ghost.
      if (!item) return [];
      const body = itemBody(item, model);
      return [{
        id: hit.id,
        score: Math.round(hit.score * 1e4) / 1e4,
        modality: body.modality,
        prediction: body.prediction,
        metadata: body.metadata,
        model: body.model,
        stale: body.stale,
      }];
    });
    return c.json({ query: about, results, collection: await facts(store, tenant, name, model) }, 200);
  });

  app.openapi(classifyRoute, async (c) => {
    const name = checkName(c.req.valid("param").name);
    const tenant = tenantOf(c);
    const { bytes } = await readItem(c.req.raw, { metadata: false });
    const held = await store.index(tenant, name);
    if (!held) throw notFound(name);
    const sha256 = sha256Hex(bytes);
    // One run answers both: the built-in label and the joint embedding it was decided from.
    const result = await deps.pool.run({ op: "classify", bytes, options: { embedding: true } });
    const embedding = result.embedding ?? [];
    if (embedding.length !== held.index.dim) {
      throw new ProblemError(
        409,
        `Collection ${name} holds ${held.index.dim}-d vectors, the model gives ${embedding.length}: re-index it`,
      );
    }
    const taught = nearestTaught(held.index, embedding, await deps.teachRule());
    return c.json({
      modality: vectorModality(result),
      sha256,
      taught,
      builtIn: { label: result.label, score: result.score, scores: result.scores.slice(0, 3) },
      collection: await facts(store, tenant, name, model),
    }, 200);
  });

  return app;
}

function params(c: Context): { name: string; id: string } {
  const { name, id } = (c.req as unknown as { valid(t: "param"): { name: string; id: string } }).valid("param");
  return { name: checkName(name), id: checkId(id) };
}

/** Collections belong to the API key that made them (its hash prefix); `_` on an open service. */
function tenantOf(c: Context): string {
  return (c.get("apiKey" as never) as string | undefined) ?? "_";
}

function notFound(name: string, id?: string): ProblemError {
  return new ProblemError(404, id === undefined ? `No collection ${name}` : `No item ${id} in collection ${name}`);
}

async function facts(store: CollectionStore, tenant: string, name: string, model: string) {
  const held = await store.index(tenant, name);
  if (!held) return { name, items: 0, dim: null, model, staleItems: 0 };
  return {
    name,
    items: held.meta.count,
    dim: held.meta.dim,
    model,
    staleItems: held.index.staleCount(model),
  };
}

function itemBody(item: StoredItem, model: string) {
  return {
    id: item.id,
    modality: item.modality,
    prediction: { label: item.prediction, score: item.predictionScore },
    sha256: item.sha256,
    model: item.model,
    stale: item.model !== model,
    metadata: item.metadata,
    storedAt: item.storedAt,
  };
}

function withoutStorage(item: StoredItem) {
  const { vector, storedAt: _, ...rest } = item;
  return { ...rest, vector: decodeInt8(vector) };
}

function isJson(request: Request): boolean {
  return /^application\/([\w.+-]*\+)?json\b/i.test(request.headers.get("content-type") ?? "");
}

/**
 * The file and its metadata: a raw body (no metadata), or multipart `file` + optional `metadata`.
 *
 * @throws {ProblemError} 400 for bad multipart, metadata that is not a JSON object, over 4 KB, or whose
 *   `label` is not a short string.
 */
async function readItem(
  request: Request,
  options: { metadata: boolean } = { metadata: true },
): Promise<{ bytes: Uint8Array; metadata: Record<string, unknown> | null }> {
  const type = (request.headers.get("content-type") ?? "").toLowerCase();
  if (!type.startsWith("multipart/form-data")) return { bytes: await readUpload(request), metadata: null };
  let form: FormData;
  try {
    form = await request.formData();
  } catch {
    throw new ProblemError(400, "The multipart body could not be parsed");
  }
  const unknown = [...new Set(form.keys())].filter((k) => k !== "file" && !(options.metadata && k === "metadata"));
  if (unknown.length) {
    throw new ProblemError(
      400,
      `Unknown multipart field ${unknown.map((k) => JSON.stringify(k)).join(", ")}; ` +
        `this route takes ${options.metadata ? '"file" and "metadata"' : '"file"'}`,
    );
  }
  const files = form.getAll("file");
  if (files.length !== 1) {
    throw new ProblemError(400, `Expected exactly one multipart field "file", got ${files.length}`);
  }
  const file = files[0]!;
  const bytes = typeof file === "string" ? new TextEncoder().encode(file) : new Uint8Array(await file.arrayBuffer());
  if (bytes.length === 0) throw new ProblemError(400, "The file is empty; send an audio or image file");
  const fields = form.getAll("metadata");
  if (fields.length > 1) throw new ProblemError(400, `Expected at most one "metadata" field, got ${fields.length}`);
  const field = fields[0];
  if (field === undefined) return { bytes, metadata: null };
  return { bytes, metadata: parseMetadata(typeof field === "string" ? field : await field.text()) };
}

/**
 * Checks `metadata`: a JSON object of at most {@linkcode MAX_METADATA_BYTES} bytes whose `label`, when
 * present, is a string of 1-64 characters.
 *
 * @param text The field's text.
 * @returns The object.
 * @throws {ProblemError} 400 saying what is wrong.
 */
export function parseMetadata(text: string): Record<string, unknown> {
  const size = new TextEncoder().encode(text).length;
  if (size > MAX_METADATA_BYTES) {
    throw new ProblemError(400, `metadata is ${size} bytes; the limit is ${MAX_METADATA_BYTES}`, {
      extensions: { limit: MAX_METADATA_BYTES },
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ProblemError(400, `metadata is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ProblemError(
      400,
      `metadata must be a JSON object, got ${Array.isArray(value) ? "an array" : typeof value}`,
    );
  }
  const label = (value as Record<string, unknown>).label;
  if (label !== undefined && (typeof label !== "string" || label.length < 1 || label.length > 64)) {
    throw new ProblemError(400, `metadata.label must be a string of 1-64 characters, got ${JSON.stringify(label)}`);
  }
  return value as Record<string, unknown>;
}

/** `{"embedding": [...]}`: finite numbers only. */
async function readVector(request: Request): Promise<number[]> {
  let body: unknown;
  try {
    body = JSON.parse(await request.text());
  } catch (error) {
    throw new ProblemError(400, `The body is not JSON: ${(error as Error).message}`);
  }
  const embedding = (body as { embedding?: unknown } | null)?.embedding;
  if (!Array.isArray(embedding) || embedding.length === 0) {
    throw new ProblemError(400, 'Send {"embedding": [numbers...]} with the collection\'s dimensions');
  }
  const bad = embedding.findIndex((v) => typeof v !== "number" || !Number.isFinite(v));
  if (bad >= 0) {
    throw new ProblemError(400, `embedding[${bad}] is ${JSON.stringify(embedding[bad])}, not a finite number`);
  }
  const extra = Object.keys(body as object).filter((k) => k !== "embedding");
  if (extra.length) {
    throw new ProblemError(
      400,
      `Unknown field ${extra.map((k) => JSON.stringify(k)).join(", ")}; ` +
        "top_k and modality are query parameters",
    );
  }
  if (embedding.every((v) => v === 0)) throw new ProblemError(400, "The embedding is all zeros: it has no direction");
  return embedding as number[];
}
