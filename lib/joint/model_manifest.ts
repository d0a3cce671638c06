/**
 * `models/manifest.json`: what `deno task train` produced and how well it scores.
 *
 * Written by `scripts/train/main.ts`; read at start by the service (artifact files and their
 * sha256, labels, version) and reported by `GET /v1/models`.
 *
 * @module
 */
import { join } from "node:path";
import { type ArtifactEntry, REBUILD_COMMAND } from "./artifact.ts";

/** A translator head's manifest entry. */
export interface TranslatorEntry extends ArtifactEntry {
  /** ONNX input name (`audio` / `image`). */
  input: string;
  /** ONNX output name (`audio_joint` / `image_joint`). */
  output: string;
  /** Encoder embedding length the head expects. */
  dimIn: number;
  /** Joint-space length. */
  dim: number;
  /** Name of the encoder (models/encoders.json) whose embeddings it maps. */
  encoder: string;
}

/** Top-level shape of `models/manifest.json` (further fields are reporting only). */
export interface ModelManifest {
  format: "amodal-models/1";
  /** Model version reported by `/v1/classify` (`model`). */
  version: string;
  /** Labels, in the forest's probability order. */
  labels: string[];
  artifacts: {
    translator_audio: TranslatorEntry;
    translator_image: TranslatorEntry;
    pca: ArtifactEntry;
    /**
     * The served classifier head over the joint embeddings: `amodal-forest/1` or `amodal-dense/1`
     * (its `format` says which; lib/classify/classifier.ts).
     */
    head: ArtifactEntry;
  };
  /** Encoders whose embeddings were trained on (name and tflite sha256 per modality). */
  encoders: Record<"audio" | "image", { name: string; sha256: string; onnxSha256?: string }>;
  [key: string]: unknown;
}

/**
 * Reads and checks `manifest.json` in a models folder.
 *
 * @param modelsDir The models folder.
 * @returns The manifest.
 * @throws {Error} naming the file and the rebuild command when it is missing or malformed.
 *
 * @example
 * ```ts
 * const manifest = await readModelManifest("models");
 * manifest.artifacts.head.file; // "head.json"
 * ```
 */
export async function readModelManifest(modelsDir: string): Promise<ModelManifest> {
  const path = join(modelsDir, "manifest.json");
  let value: Partial<ModelManifest>;
  try {
    value = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw new Error(
      `Cannot load trained-model manifest ${path}: ${(error as Error).message}. Rebuild it with \`${REBUILD_COMMAND}\``,
      { cause: error },
    );
  }
  const a = value.artifacts as (ModelManifest["artifacts"] & { forest?: ArtifactEntry }) | undefined;
  // Manifests written before the head could be a dense one name it `forest`.
  if (a && !a.head && a.forest) a.head = a.forest;
  if (
    value.format !== "amodal-models/1" || !Array.isArray(value.labels) || typeof value.version !== "string" ||
    !a?.translator_audio?.file || !a.translator_image?.file || !a.pca?.file || !a.head?.file
  ) {
    throw new Error(
      `Cannot load trained-model manifest ${path}: not an "amodal-models/1" manifest with labels, version and ` +
        `artifacts translator_audio, translator_image, pca, head. Rebuild it with \`${REBUILD_COMMAND}\``,
    );
  }
  return value as ModelManifest;
}
