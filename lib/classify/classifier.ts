/**
 * The served classifier head over joint embeddings, whatever its kind: a random forest
 * (`amodal-forest/1`, {@link ./forest.ts}) or a dense head (`amodal-dense/1`: logistic regression
 * or a small MLP, {@link ./dense_head.ts}). The file says which (`format`); the service does not.
 *
 * @module
 */
import { loadForest } from "./forest.ts";
import { loadDenseHead } from "./dense_head.ts";

/** A loaded classifier head. */
export interface Classifier {
  /** Class names, in the order of {@linkcode Classifier.predictProba}'s output. */
  readonly labels: readonly string[];
  /** Expected feature-vector length. */
  readonly nFeatures: number;
  /**
   * Class probabilities for one feature vector.
   *
   * @param features A vector of `nFeatures` numbers.
   * @returns One probability per label (they sum to 1).
   * @throws {RangeError} when the vector has the wrong length.
   */
  predictProba(features: ArrayLike<number>): Float32Array;
}

/** Head formats {@linkcode loadClassifier} reads. */
export const CLASSIFIER_FORMATS = ["amodal-forest/1", "amodal-dense/1"] as const;

/**
 * Parses a classifier head of any supported format.
 *
 * @param json The head as parsed JSON or as JSON text.
 * @returns The classifier.
 * @throws {SyntaxError} when the format is unknown or the head is malformed.
 *
 * @example
 * ```ts
 * const head = loadClassifier(await Deno.readTextFile("models/head.json"));
 * head.predictProba(new Float32Array(head.nFeatures));
 * ```
 */
export function loadClassifier(json: unknown): Classifier {
  const value = typeof json === "string" ? JSON.parse(json) : json;
  const format = (value as { format?: unknown })?.format;
  if (format === "amodal-forest/1") return loadForest(value);
  if (format === "amodal-dense/1") return loadDenseHead(value);
  throw new SyntaxError(
    `Cannot load classifier: format is "${format}", expected one of ${CLASSIFIER_FORMATS.join(", ")}`,
  );
}
