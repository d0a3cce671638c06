/**
 * The HTTP contract as zod schemas: routes declare their requests and answers with these, the OpenAPI 3.1
 * document at `/openapi.json` is generated from them, and tests validate real answers against that document.
 * A field added to an answer is added here first.
 *
 * @module
 */
import { OpenAPIHono, z } from "@hono/zod-openapi";
import { ProblemError } from "../lib/errors.ts";

/** An RFC 9457 problem, the body of every 4xx and 5xx. */
export const ProblemSchema = z.object({
  type: z.string().openapi({ example: "https://amodal.dev/problems/unsupported-media" }),
  title: z.string().openapi({ example: "Unsupported media type" }),
  status: z.number().int().openapi({ example: 415 }),
  detail: z.string().openapi({ example: "Not a supported audio, image or video format (first bytes: 7b 22 69 6e)" }),
}).catchall(z.unknown()).openapi("Problem");

/** Seconds of audio received and analysed (audio inputs only). */
export const AudioFactsSchema = z.object({
  durationSeconds: z.number(),
  analysedSeconds: z.number(),
  truncated: z.boolean().openapi({ description: "true when only the first AMODAL_MAX_AUDIO_SECONDS were analysed" }),
}).openapi("AudioFacts");

/** What the bytes were recognised as. */
export const Modality = z.enum(["audio", "image"]).openapi({ description: "What the bytes were recognised as" });
/** What an upload to the inference routes was recognised as: a sound, a picture, or a video (both). */
export const InputModality = z.enum(["audio", "image", "video"]).openapi({
  description: "What the bytes were recognised as; `video`: an MP4, MOV or WebM with a video track (see `modalities`)",
});

/** What a video answer says about the file. */
export const VideoFactsSchema = z.object({
  durationSeconds: z.number().nullable().openapi({ description: "Duration the container declares" }),
  width: z.number().int(),
  height: z.number().int(),
  frames: z.number().int().openapi({ description: "Frames decoded and classified (spread over the analysed span)" }),
}).openapi("VideoFacts");

/** The fields a video adds to an answer beside `modalities`. */
const videoFields = {
  video: VideoFactsSchema.optional(),
  missing: z.array(z.enum(["audio", "image"])).optional().openapi({
    description: "Videos: modalities the answer lacks (no audio track, no decodable frame); `notes` says why",
  }),
  notes: z.array(z.string()).optional().openapi({
    description: "Videos: what is missing or partial, in plain words",
  }),
};
/** The deployed model version. */
export const Model = z.string().openapi({
  description: "Version of the trained joint space (models/manifest.json `version`); it changes when the space does",
  example: "mmt-2026-11-25-b9ccc423",
});
/** A sha256 hex digest. */
export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/).openapi({ description: "sha256 of the uploaded bytes, hex" });

/** One label's probability. */
export const LabelScoreSchema = z.object({ label: z.string(), score: z.number().min(0).max(1) }).openapi("LabelScore");

const Label = z.string().nullable().openapi({
  description: "Most probable instrument, or null when the service abstains (see `reason`)",
  example: "violin",
});
const Reason = z.enum(["silence", "no instrument recognised"]).optional().openapi({
  description: "Why `label` is null, when it is",
});
const Score = z.number().min(0).max(1).nullable().openapi({ description: "`label`'s score; null with `label`" });
const Scores = z.array(LabelScoreSchema).openapi({ description: "Labels by decreasing score; `top_k` trims the list" });
const Instrument = z.object({
  score: z.number().openapi({ description: "Instrument-presence probability (0 when a hard rule decided)" }),
  threshold: z.number(),
  rule: z.string().optional().openapi({
    description: "The hard rule that decided (too short, quiet, mains hum, clicks, tiny, plain)",
  }),
}).optional().openapi({
  description: "How strongly the input looks like any instrument at all, and the threshold below which it abstains",
});

/** One modality's own classification of a video. */
export const ModalityResultSchema = z.object({
  label: Label,
  reason: Reason,
  score: Score,
  scores: Scores,
  instrument: Instrument,
}).openapi("ModalityResult");

/** The answer of `POST /v1/classify`. */
export const ClassifyResultSchema = z.object({
  modality: InputModality,
  label: Label,
  reason: Reason,
  score: Score,
  scores: Scores,
  instrument: Instrument,
  model: Model,
  sha256: Sha256,
  audio: AudioFactsSchema.optional(),
  ...videoFields,
  modalities: z.object({
    audio: ModalityResultSchema.optional(),
    image: ModalityResultSchema.extend({
      frames: z.array(z.object({ seconds: z.number(), label: z.string().nullable(), score: z.number().nullable() }))
        .openapi({ description: "Each frame's own label and score" }),
    }).optional().openapi({ description: "The frames' results fused by the same rule (one vote per frame)" }),
  }).optional().openapi({
    description: "Videos: each modality's own result. The answer's `scores` are the mean of the probability vectors " +
      "of the modalities that name an instrument (one vote each); when none does, the answer abstains",
  }),
}).openapi("ClassifyResult");

/** One modality's embedding of a video, in the answer's `encoding`. */
export const ModalityEmbeddingSchema = z.object({
  encoder: z.string(),
  dim: z.number().int(),
  embedding: z.union([z.array(z.number()), z.string()]),
  frames: z.number().int().optional().openapi({ description: "Image: frames whose vectors were averaged" }),
}).openapi("ModalityEmbedding");

/** The answer of `POST /v1/embed`. */
export const EmbedResultSchema = z.object({
  modality: InputModality,
  space: z.enum(["joint", "encoder"]),
  encoder: z.string().openapi({ example: "yamnet" }),
  dim: z.number().int(),
  encoding: z.enum(["float", "base64"]).openapi({
    description: "`float`: a JSON array of float32 values; `base64`: little-endian float32 bytes in base64",
  }),
  embedding: z.union([z.array(z.number()), z.string()]).openapi({
    description: "For a video: the audio track's vector, or the frames' mean when it has no decodable audio",
  }),
  model: Model,
  sha256: Sha256,
  audio: AudioFactsSchema.optional(),
  ...videoFields,
  modalities: z.object({ audio: ModalityEmbeddingSchema.optional(), image: ModalityEmbeddingSchema.optional() })
    .optional().openapi({
      description: "Videos: each modality's vector (image: the mean of the frames', unit length again in the joint " +
        "space)",
    }),
}).openapi("EmbedResult");

/** `GET /healthz`. */
export const HealthSchema = z.object({
  status: z.literal("ok"),
  workers: z.object({
    workers: z.number().int(),
    ready: z.number().int(),
    busy: z.number().int(),
    queued: z.number().int(),
    restarts: z.number().int(),
  }).catchall(z.unknown()),
  loaded: z.array(z.string()).openapi({
    description: "What has been loaded so far (encoders, translators, decoders): each loads on first use",
  }),
}).openapi("Health");

/** `GET /v1/models`. */
export const ModelsSchema = z.object({
  encoders: z.array(z.record(z.string(), z.unknown())).openapi({
    description: "Encoder cards: name, modality, source, sha256, licence, input, dim",
  }),
  joint: z.record(z.string(), z.unknown()).nullable().openapi({
    description: "The trained joint space (models/manifest.json) with its report, or null when none is deployed",
  }),
}).openapi("Models");

/** `GET /v1/labels`. */
export const LabelsSchema = z.object({ labels: z.array(z.string()) }).openapi("Labels");

/** `?top_k=`: a positive integer. */
export const TopK = z.coerce.number({
  error: (i) => `top_k must be a positive integer, got ${JSON.stringify(i.input)}`,
})
  .int({ error: (i) => `top_k must be a positive integer, got ${i.input}` })
  .min(1, { error: (i) => `top_k must be a positive integer, got ${i.input}` })
  .optional()
  .openapi({ param: { name: "top_k", in: "query" }, type: "integer", minimum: 1, example: 3 });

/** `?space=`: joint (128-d) or encoder (raw encoder embedding). */
export const Space = z.enum(["joint", "encoder"], {
  error: (i) => `Unknown space ${JSON.stringify(i.input)}; use "joint" or "encoder"`,
}).optional()
  .openapi({ param: { name: "space", in: "query" }, description: "Default: joint" });

/** `?op=`: which result, classify (default) or embed. */
export const Op = z.enum(["classify", "embed"], {
  error: (i) => `Unknown op ${JSON.stringify(i.input)}; use "classify" or "embed"`,
}).optional().openapi({ param: { name: "op", in: "query" }, description: "Default: classify" });

/** `?encoding=`: float (JSON array) or base64 (little-endian float32). */
export const Encoding = z.enum(["float", "base64"], {
  error: (i) => `Unknown encoding ${JSON.stringify(i.input)}; use "float" or "base64"`,
}).optional()
  .openapi({ param: { name: "encoding", in: "query" }, description: "Default: float" });

/** The request body of the inference routes: the file's bytes, raw or as multipart field `file`. */
export const UploadBody = {
  required: true,
  description: "An audio, image or video file: the raw bytes, or a multipart form with one field `file`. " +
    "The format is detected from the bytes, never from Content-Type.",
  content: {
    "application/octet-stream": { schema: { type: "string" as const, format: "binary" } },
    "multipart/form-data": {
      schema: {
        type: "object" as const,
        properties: { file: { type: "string" as const, format: "binary" } },
        required: ["file"],
      },
    },
  },
};

/** Problem responses, declared on every route that can give them. */
export function problems(...statuses: number[]): Record<number, { description: string; content: object }> {
  const descriptions: Record<number, string> = {
    304: "Not modified",
    400: "Bad request: empty body, bad multipart, unknown or invalid query parameter",
    401: "Missing or wrong API key",
    404: "Not found",
    405: "Method not allowed (the `Allow` header lists the allowed ones)",
    409: "Conflict with what is stored (a full collection, vectors of another length)",
    413: "Body over the limit",
    415: "Not a supported audio, image or video format",
    422: "Recognised but undecodable, over the pixel limit, or a video declaring more than AMODAL_MAX_VIDEO_SECONDS",
    429: "Rate limited (`Retry-After`)",
    500: "Internal error; the X-Request-Id identifies it in the logs",
    503: "Overloaded, or the collection store is unavailable (`Retry-After`)",
    504: "Past the request deadline",
  };
  return Object.fromEntries(statuses.map((s) => [s, {
    description: descriptions[s] ?? "Error",
    content: { "application/problem+json": { schema: ProblemSchema } },
  }]));
}

/**
 * A router whose request validation failures become 400 problems naming what was wrong (unknown query
 * parameters included), through the app's one `onError`.
 *
 * @returns An empty OpenAPIHono router.
 */
export function openApiRouter(): OpenAPIHono {
  return new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) {
        // Query messages name their parameter; a JSON body's say where in the body they are.
        const where = (path: PropertyKey[]) =>
          result.target === "json" && path.length ? `body.${path.map(String).join(".")}: ` : "";
        throw new ProblemError(400, result.error.issues.map((i) => where(i.path) + i.message).join("; "));
      }
    },
  });
}

/**
 * A query schema that refuses parameters it does not declare, naming them and the ones it takes.
 *
 * @param shape The declared parameters.
 * @returns A strict object schema.
 */
export function query<T extends Record<string, z.ZodType>>(shape: T) {
  const takes = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== "unrecognized_keys") return undefined;
      const names = issue.keys.map((k) => JSON.stringify(k)).join(", ");
      return `Unknown query parameter ${names}; this route takes ${takes.length ? takes.join(", ") : "none"}`;
    },
  });
}

/** One item of a JSON `POST /v1/batch`. */
export const BatchItemSchema = z.object({
  name: z.string().max(1000).optional().openapi({ description: "Echoed in the answer (a file name, an id)" }),
  data: z.string().openapi({ description: "The file's bytes, base64 (standard alphabet, padding optional)" }),
}).openapi("BatchItem");

/** The JSON form of a `POST /v1/batch` request. */
export const BatchRequestSchema = z.object({ items: z.array(BatchItemSchema) }).openapi("BatchRequest");

/** The answer of `POST /v1/batch`: one entry per item, in order, each with its own status. */
export const BatchResultSchema = z.object({
  op: z.enum(["classify", "embed"]),
  model: Model,
  items: z.array(z.object({
    index: z.number().int(),
    name: z.string().optional(),
    status: z.number().int().openapi({ description: "200, or the status this item alone would have got" }),
    cached: z.boolean().optional(),
    result: z.union([ClassifyResultSchema, EmbedResultSchema]).optional(),
    problem: ProblemSchema.optional(),
  })),
}).openapi("BatchResult");
