/**
 * Random-forest evaluator for the JSON forests written by `scripts/train/forests.py`.
 *
 * Format `amodal-forest/1` (one JSON object):
 * - `labels`: class names; probabilities are reported in this order.
 * - `nFeatures`: length of a feature vector.
 * - `trees`: one object per tree, each holding flat arrays indexed by node id (root = 0):
 *   - `feature[i]`: feature index tested at node i, or -1 when i is a leaf;
 *   - `threshold[i]`: go to `left[i]` when `x[feature[i]] <= threshold[i]`, else to `right[i]`.
 *     The value is a float32 (the largest float32 not above scikit-learn's float64 threshold),
 *     so for float32 features the decision is exactly scikit-learn's; 0 at leaves;
 *   - at a leaf, `left[i]`..`right[i]` (end exclusive) is its range in `leafClass` /
 *     `leafWeight`: the label indices with a non-zero weight and their (bootstrap) sample
 *     weights. A pure leaf stores weight 1.
 *
 * `predictProba` reproduces scikit-learn's `RandomForestClassifier.predict_proba`: the mean over
 * trees of each tree's leaf weights normalised to sum 1 (features are cast to float32 first, as
 * scikit-learn does).
 *
 * @module
 */
import type { Classifier } from "./classifier.ts";

/** The JSON form of a forest (see the module documentation). */
export interface ForestJson {
  format: "amodal-forest/1";
  labels: string[];
  nFeatures: number;
  params?: Record<string, unknown>;
  trees: {
    feature: number[];
    threshold: number[];
    left: number[];
    right: number[];
    leafClass: number[];
    leafWeight: number[];
  }[];
}

interface Tree {
  feature: Int32Array;
  threshold: Float32Array;
  left: Int32Array;
  right: Int32Array;
  leafClass: Int32Array;
  /** Leaf weights already divided by their leaf's total. */
  leafProba: Float64Array;
}

/** A loaded random forest. */
export interface Forest extends Classifier {
  /** Number of trees. */
  readonly size: number;
}

/**
 * Parses and validates a forest.
 *
 * @param json The forest as parsed JSON or as JSON text.
 * @returns A forest ready to predict.
 * @throws {SyntaxError} when the format is not `amodal-forest/1` or an array is malformed.
 *
 * @example
 * ```ts
 * const forest = loadForest(await Deno.readTextFile("models/forest.json"));
 * const p = forest.predictProba(new Float32Array(forest.nFeatures));
 * ```
 */
export function loadForest(json: unknown): Forest {
  const value = (typeof json === "string" ? JSON.parse(json) : json) as Partial<ForestJson>;
  if (value?.format !== "amodal-forest/1") {
    throw new SyntaxError(`Cannot load forest: format is "${value?.format}", expected "amodal-forest/1"`);
  }
  const labels = value.labels;
  const nFeatures = value.nFeatures;
  if (!Array.isArray(labels) || labels.length === 0 || !Number.isInteger(nFeatures) || nFeatures! <= 0) {
    throw new SyntaxError("Cannot load forest: it needs a non-empty `labels` array and a positive `nFeatures`");
  }
  if (!Array.isArray(value.trees) || value.trees.length === 0) {
    throw new SyntaxError("Cannot load forest: `trees` is missing or empty");
  }
  const trees = value.trees.map((t, n) => parseTree(t, n, nFeatures!, labels.length));
  return new JsonForest([...labels], nFeatures!, trees);
}

function parseTree(t: ForestJson["trees"][number], n: number, nFeatures: number, nLabels: number): Tree {
  const where = `Cannot load forest: tree ${n}`;
  const nodes = t?.feature?.length ?? 0;
  for (const key of ["feature", "threshold", "left", "right"] as const) {
    if (!Array.isArray(t?.[key]) || t[key].length !== nodes || nodes === 0) {
      throw new SyntaxError(`${where}: \`${key}\` must be an array of ${nodes} node values`);
    }
  }
  if (!Array.isArray(t.leafClass) || !Array.isArray(t.leafWeight) || t.leafClass.length !== t.leafWeight.length) {
    throw new SyntaxError(`${where}: \`leafClass\` and \`leafWeight\` must be arrays of equal length`);
  }
  const tree: Tree = {
    feature: Int32Array.from(t.feature),
    // Math.fround via Float32Array: the stored decimals are float32 values.
    threshold: Float32Array.from(t.threshold),
    left: Int32Array.from(t.left),
    right: Int32Array.from(t.right),
    leafClass: Int32Array.from(t.leafClass),
    leafProba: new Float64Array(t.leafWeight.length),
  };
  for (let i = 0; i < nodes; i++) {
    const f = tree.feature[i]!, l = tree.left[i]!, r = tree.right[i]!;
    if (f >= 0) {
      if (f >= nFeatures) throw new SyntaxError(`${where}: node ${i} tests feature ${f} of ${nFeatures}`);
      // Children always follow their parent (scikit-learn numbers nodes depth-first), which also rules out cycles.
      if (!(l > i && l < nodes && r > i && r < nodes)) {
        throw new SyntaxError(`${where}: node ${i} has children ${l}, ${r} outside ${i + 1}..${nodes - 1}`);
      }
      continue;
    }
    if (!(l >= 0 && r > l && r <= tree.leafClass.length)) {
      throw new SyntaxError(`${where}: leaf ${i} has leaf range ${l}..${r} outside 0..${tree.leafClass.length}`);
    }
    let total = 0;
    for (let k = l; k < r; k++) {
      const c = tree.leafClass[k]!, w = t.leafWeight[k]!;
      if (!(c >= 0 && c < nLabels) || !(w > 0)) {
        throw new SyntaxError(`${where}: leaf ${i} has class ${c} (of ${nLabels}) with weight ${w}`);
      }
      total += w;
    }
    for (let k = l; k < r; k++) tree.leafProba[k] = t.leafWeight[k]! / total;
  }
  return tree;
}

class JsonForest implements Forest {
  readonly labels: readonly string[];
  readonly nFeatures: number;
  #trees: Tree[];

  constructor(labels: string[], nFeatures: number, trees: Tree[]) {
    this.labels = labels;
    this.nFeatures = nFeatures;
    this.#trees = trees;
  }

  get size(): number {
    return this.#trees.length;
  }

  predictProba(features: ArrayLike<number>): Float32Array {
    if (features.length !== this.nFeatures) {
      throw new RangeError(`Cannot classify: feature vector has length ${features.length}, expected ${this.nFeatures}`);
    }
    // scikit-learn compares float32 features with the thresholds.
    const x = Float32Array.from(features);
    const sum = new Float64Array(this.labels.length);
    for (const tree of this.#trees) {
      let i = 0;
      while (tree.feature[i]! >= 0) {
        i = x[tree.feature[i]!]! <= tree.threshold[i]! ? tree.left[i]! : tree.right[i]!;
      }
      for (let k = tree.left[i]!; k < tree.right[i]!; k++) sum[tree.leafClass[k]!]! += tree.leafProba[k]!;
    }
    const out = new Float32Array(sum.length);
    for (let c = 0; c < sum.length; c++) out[c] = sum[c]! / this.#trees.length;
    return out;
  }
}
