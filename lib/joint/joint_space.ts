/**
 * The served joint space: both translator heads and the classifier head from `models/`, loaded and
 * sha256-checked against `models/manifest.json`.
 *
 * @module
 */
import { readArtifact } from "./artifact.ts";
import { type ModelManifest, readModelManifest } from "./model_manifest.ts";
import { loadTranslator, type Translator } from "./translator.ts";
import type { SessionOptions } from "../backend/onnx.ts";
import { type Classifier, loadClassifier } from "../classify/classifier.ts";

/** Trained artifacts ready to serve. */
export interface JointSpace {
  /** Model version (`manifest.version`). */
  readonly version: string;
  /** Labels, in the order of `classifier.predictProba`. */
  readonly labels: readonly string[];
  /** The whole manifest (metrics, encoders, hyper-parameters). */
  readonly manifest: ModelManifest;
  /** The served classifier head over joint embeddings (a forest or a dense head). */
  readonly classifier: Classifier;
  /**
   * Maps one encoder embedding into the joint space.
   *
   * @param modality Which head to use.
   * @param embedding The encoder embedding (`dimIn` values).
   * @returns The 128-d unit-length joint embedding.
   */
  translate(modality: "audio" | "image", embedding: Float32Array): Promise<Float32Array>;
}

/**
 * Loads the translator heads and classifier head named by `manifest.json`.
 *
 * @param modelsDir The models folder.
 * @param options `threads`: intra-op threads for the translator sessions; `backend`: web or node; `onLoad`: told
 *   when a head's session has been created (for `/healthz`).
 * @returns The joint space.
 * @throws {Error} naming the file and `deno task train` when an artifact is missing or corrupt.
 *
 * @example
 * ```ts
 * const joint = await loadJointSpace("models");
 * const z = await joint.translate("audio", yamnetEmbedding);
 * joint.classifier.predictProba(z);
 * ```
 */
export async function loadJointSpace(
  modelsDir: string,
  options: Pick<SessionOptions, "threads" | "backend" | "spin"> & { onLoad?: (modality: "audio" | "image") => void } =
    {},
): Promise<JointSpace> {
  const manifest = await readModelManifest(modelsDir);
  const { translator_audio: ta, translator_image: ti, head: he } = manifest.artifacts;
  const [audioBytes, imageBytes, headBytes] = await Promise.all([
    readArtifact(modelsDir, ta),
    readArtifact(modelsDir, ti),
    readArtifact(modelsDir, he),
  ]);
  const { onLoad, ...session } = options;
  // Each head's session is created when its modality is first translated: an image-only process never pays
  // for the audio head.
  const bytes = { audio: { model: audioBytes!, spec: ta }, image: { model: imageBytes!, spec: ti } };
  const heads: Partial<Record<"audio" | "image", Promise<Translator>>> = {};
  const head = (modality: "audio" | "image") => {
    const loading = heads[modality] ??= loadTranslator(bytes[modality].model, bytes[modality].spec, session)
      .then((t) => {
        onLoad?.(modality);
        return t;
      });
    loading.catch(() => {
      if (heads[modality] === loading) delete heads[modality];
    });
    return loading;
  };
  const classifier = loadClassifier(new TextDecoder().decode(headBytes));
  if (classifier.labels.join() !== manifest.labels.join() || classifier.nFeatures !== ta.dim) {
    throw new Error(`Trained artifacts disagree: head labels/features do not match manifest.json in ${modelsDir}`);
  }
  return {
    version: manifest.version,
    labels: manifest.labels,
    manifest,
    classifier,
    translate: async (modality, embedding) => (await head(modality)).translate(embedding),
  };
}
