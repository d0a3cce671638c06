/**
 * Dense classifier heads (logistic regression, small MLP) for the JSON heads written by
 * `scripts/train/loso.py`.
 *
 * Format `amodal-dense/1` (one JSON object):
 * - `labels`: class names; probabilities are reported in this order.
 * - `nFeatures`: length of a feature vector (the first layer's `in`).
 * - `layers`: applied in order; each has `in`, `out`, `weight` (`out` x `in`, row-major: output
 *   unit j's weights are `weight[j * in .. (j + 1) * in]`), `bias` (`out`) and `activation`:
 *   `relu` for hidden layers, `softmax` for the last (whose `out` is the number of labels).
 *   Parameters are float32 values written as their shortest decimals.
 *
 * `predictProba` reproduces the Python side (scikit-learn's `LogisticRegression.predict_proba`,
 * PyTorch's `softmax(net(x))`): float64 arithmetic over the float32 parameters; the softmax
 * subtracts the largest logit first, as both do, so no input overflows it.
 *
 * @module
 */
import type { Classifier } from "./classifier.ts";

/** One dense layer of an `amodal-dense/1` head. */
export interface DenseLayerJson {
  in: number;
  out: number;
  weight: number[];
  bias: number[];
  activation: "relu" | "softmax";
}

/** The JSON form of a dense head (see the module documentation). */
export interface DenseHeadJson {
  format: "amodal-dense/1";
  labels: string[];
  nFeatures: number;
  /** What was trained (`logreg`, `mlp`) and how; reporting only. */
  kind?: string;
  params?: Record<string, unknown>;
  layers: DenseLayerJson[];
}

interface Layer {
  in: number;
  out: number;
  weight: Float32Array;
  bias: Float32Array;
  activation: "relu" | "softmax";
}

/**
 * Parses and validates a dense head.
 *
 * @param json The head as parsed JSON or as JSON text.
 * @returns A classifier ready to predict.
 * @throws {SyntaxError} when the format is not `amodal-dense/1` or a layer is malformed.
 *
 * @example
 * ```ts
 * const head = loadDenseHead({
 *   format: "amodal-dense/1", labels: ["a", "b"], nFeatures: 1,
 *   layers: [{ in: 1, out: 2, weight: [1, -1], bias: [0, 0], activation: "softmax" }],
 * });
 * head.predictProba([2]); // Float32Array [0.982, 0.018]
 * ```
 */
export function loadDenseHead(json: unknown): Classifier {
  const value = (typeof json === "string" ? JSON.parse(json) : json) as Partial<DenseHeadJson>;
  if (value?.format !== "amodal-dense/1") {
    throw new SyntaxError(`Cannot load dense head: format is "${value?.format}", expected "amodal-dense/1"`);
  }
  const { labels, nFeatures, layers } = value;
  if (!Array.isArray(labels) || labels.length === 0 || !Number.isInteger(nFeatures) || nFeatures! <= 0) {
    throw new SyntaxError("Cannot load dense head: it needs a non-empty `labels` array and a positive `nFeatures`");
  }
  if (!Array.isArray(layers) || layers.length === 0) throw new SyntaxError("Cannot load dense head: `layers` is empty");
  let width = nFeatures!;
  const parsed = layers.map((l, n): Layer => {
    const where = `Cannot load dense head: layer ${n}`;
    const last = n === layers.length - 1;
    if (l?.in !== width || !Number.isInteger(l.out) || l.out <= 0) {
      throw new SyntaxError(`${where}: in ${l?.in} / out ${l?.out}, expected in ${width} and a positive out`);
    }
    if (!Array.isArray(l.weight) || l.weight.length !== l.in * l.out) {
      throw new SyntaxError(`${where}: \`weight\` must hold ${l.in * l.out} values`);
    }
    if (!Array.isArray(l.bias) || l.bias.length !== l.out) {
      throw new SyntaxError(`${where}: \`bias\` must hold ${l.out} values`);
    }
    if (l.activation !== (last ? "softmax" : "relu")) {
      throw new SyntaxError(`${where}: activation "${l.activation}", expected "${last ? "softmax" : "relu"}"`);
    }
    if (last && l.out !== labels.length) {
      throw new SyntaxError(`${where}: ${l.out} outputs for ${labels.length} labels`);
    }
    width = l.out;
    return {
      in: l.in,
      out: l.out,
      weight: Float32Array.from(l.weight),
      bias: Float32Array.from(l.bias),
      activation: l.activation,
    };
  });
  return new DenseHead([...labels], nFeatures!, parsed);
}

class DenseHead implements Classifier {
  readonly labels: readonly string[];
  readonly nFeatures: number;
  #layers: Layer[];

  constructor(labels: string[], nFeatures: number, layers: Layer[]) {
    this.labels = labels;
    this.nFeatures = nFeatures;
    this.#layers = layers;
  }

  predictProba(features: ArrayLike<number>): Float32Array {
    if (features.length !== this.nFeatures) {
      throw new RangeError(`Cannot classify: feature vector has length ${features.length}, expected ${this.nFeatures}`);
    }
    // Features are float32 on the Python side too.
    let x: Float64Array = Float64Array.from(Float32Array.from(features));
    for (const layer of this.#layers) {
      const y = new Float64Array(layer.out);
      for (let j = 0; j < layer.out; j++) {
        let s = layer.bias[j]!;
        const row = j * layer.in;
        for (let i = 0; i < layer.in; i++) s += layer.weight[row + i]! * x[i]!;
        y[j] = layer.activation === "relu" ? Math.max(0, s) : s;
      }
      x = y;
    }
    let max = -Infinity;
    for (const v of x) max = Math.max(max, v);
    let sum = 0;
    for (let j = 0; j < x.length; j++) sum += x[j] = Math.exp(x[j]! - max);
    const out = new Float32Array(x.length);
    for (let j = 0; j < x.length; j++) out[j] = x[j]! / sum;
    return out;
  }
}
