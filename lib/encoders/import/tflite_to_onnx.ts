/**
 * TFLite -> ONNX importer for the pinned encoder models.
 *
 * @module
 */
import { BatchError, GraphBuilder } from "./graph_builder.ts";
import { encodeOnnx, type OnnxNode, type OnnxTensor } from "./onnx_proto.ts";
import { readTflite, type TfliteModel } from "./tflite_model.ts";
import { OPS } from "./tflite_ops.ts";

/**
 * Version of the conversion rules; bump when the emitted graph changes so
 * cached encoders are rebuilt.
 */
export const CONVERTER_VERSION = 1;

/** Options for {@linkcode tfliteToOnnx}. */
export interface TfliteToOnnxOptions {
  /**
   * Graph outputs: ONNX output name -> TFLite tensor name. A TFLite name
   * matches a tensor whose name equals it or has it as one `;`-separated
   * part (the converter joins fused tensor names with `;`). The output named
   * `embedding` is flattened to `[N, dim]`.
   */
  outputs: Record<string, string>;
  /**
   * Make the input's dim 0 symbolic ("N") so several patches/images run in
   * one call; falls back to the fixed batch when the graph moves the batch
   * dimension (e.g. YAMNet's waveform framing).
   * @default {true}
   */
  symbolicBatch?: boolean;
  /** ONNX input name. @default {"input"} */
  inputName?: string;
  /** Graph name written into the model. @default {"encoder"} */
  name?: string;
}

/** What {@linkcode tfliteToOnnx} produced. */
export interface TfliteToOnnxResult {
  /** The `.onnx` file contents. */
  onnx: Uint8Array;
  /** Input shape; dim 0 is "N" when the batch is symbolic. */
  inputShape: (number | string)[];
  /** Output shapes by output name. */
  outputShapes: Record<string, (number | string)[]>;
  /** Whether dim 0 is symbolic. */
  symbolicBatch: boolean;
  /** Why the batch stayed fixed, when it did. */
  fixedBatchReason?: string;
  /** Distinct TFLite operators in the model, sorted. */
  tfliteOps: string[];
  /** ONNX node count after dead-code elimination. */
  nodeCount: number;
}

/** Index of the TFLite tensor named `name` (see {@linkcode TfliteToOnnxOptions.outputs}). */
export function findTensor(model: TfliteModel, name: string): number {
  const produced = new Set(model.operators.flatMap((op) => op.outputs));
  const exact = model.tensors.find((t) => t.name === name);
  if (exact !== undefined) return exact.index;
  // Prefer activations over constants that share a fused name part.
  const candidates = model.tensors.filter((t) => t.name.split(";").includes(name));
  const hit = candidates.find((t) => produced.has(t.index)) ?? candidates[0];
  if (hit === undefined) {
    throw new RangeError(`TFLite model has no tensor named "${name}"`);
  }
  return hit.index;
}

function build(
  model: TfliteModel,
  opts: TfliteToOnnxOptions,
  symbolic: boolean,
): Omit<TfliteToOnnxResult, "fixedBatchReason" | "tfliteOps"> {
  const g = new GraphBuilder(model, symbolic);
  const inputIndex = model.inputs[0];
  if (inputIndex === undefined || model.inputs.length !== 1) {
    throw new TypeError(
      `Expected a model with one input, got ${model.inputs.length}`,
    );
  }
  const inputName = opts.inputName ?? "input";
  const inShape: (number | string)[] = [...model.tensors[inputIndex]!.shape];
  if (symbolic) {
    if (inShape[0] !== 1) throw new BatchError("input dim 0 is not 1");
    inShape[0] = "N";
    g.batched.add(inputIndex);
  }
  g.define(inputIndex, inputName);

  const wanted = new Map(
    Object.entries(opts.outputs).map(([k, v]) => [k, findTensor(model, v)]),
  );
  for (const op of model.operators) {
    const convert = OPS[op.opName];
    if (convert === undefined) {
      throw new TypeError(
        `Unsupported TFLite operator ${op.opName} (supported: ${Object.keys(OPS).join(", ")})`,
      );
    }
    convert(g, op);
  }

  const outputs = [...wanted].map(([name, index]) => {
    const src = g.value(index, "nhwc");
    const shape: (number | string)[] = [...g.shape(index)];
    const batched = g.batched.has(g.resolve(index));
    if (name === "embedding") {
      const dim = shape.slice(1).reduce<number>((a, b) => a * Number(b), 1);
      g.node("Flatten", [src], { axis: 1 }, name);
      return { name, type: "float32" as const, shape: [batched ? "N" : shape[0]!, dim] };
    }
    g.node("Identity", [src], {}, name);
    if (batched) shape[0] = "N";
    return { name, type: "float32" as const, shape };
  });

  const { nodes, initializers } = prune(
    g.nodes,
    g.initializers,
    outputs.map((o) => o.name),
  );
  const onnx = encodeOnnx({
    name: opts.name ?? "encoder",
    opset: 13,
    nodes,
    initializers,
    inputs: [{ name: inputName, type: "float32", shape: inShape }],
    outputs,
    doc: "Imported from TFLite by amodal lib/convert (activations in float).",
  });
  return {
    onnx,
    inputShape: inShape,
    outputShapes: Object.fromEntries(outputs.map((o) => [o.name, o.shape])),
    symbolicBatch: symbolic,
    nodeCount: nodes.length,
  };
}

/** Keeps only nodes and initializers the outputs depend on. */
function prune(
  nodes: OnnxNode[],
  initializers: OnnxTensor[],
  outputs: string[],
): { nodes: OnnxNode[]; initializers: OnnxTensor[] } {
  const needed = new Set(outputs);
  const kept: OnnxNode[] = [];
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i]!;
    if (!n.outputs.some((o) => needed.has(o))) continue;
    kept.push(n);
    for (const input of n.inputs) needed.add(input);
  }
  return {
    nodes: kept.reverse(),
    initializers: initializers.filter((t) => needed.has(t.name)),
  };
}

/**
 * Converts a TFLite model to an ONNX graph that computes in float32.
 *
 * Quantised weights stay int8/uint8 initializers followed by
 * `DequantizeLinear` (per-channel where the TFLite tensor is); activation
 * quantisation is ignored. The single input becomes a float32 input named
 * `input` (for uint8 models it takes the real value `(q - zp) * scale`).
 *
 * @param tflite The `.tflite` file contents.
 * @param opts Which tensors become outputs, batch handling.
 * @returns The ONNX bytes plus shapes and a summary.
 * @throws {TypeError} Naming the operator when the model uses one this
 *   importer does not translate.
 * @example
 * ```ts
 * const { onnx } = tfliteToOnnx(await Deno.readFile("yamnet_spectra_in.tflite"), {
 *   outputs: { embedding: "tower0/network/layer28/reduce_mean" },
 * });
 * ```
 */
export function tfliteToOnnx(
  tflite: Uint8Array,
  opts: TfliteToOnnxOptions,
): TfliteToOnnxResult {
  const model = readTflite(tflite);
  const tfliteOps = [...new Set(model.operators.map((op) => op.opName))].sort();
  if (opts.symbolicBatch ?? true) {
    try {
      return { ...build(model, opts, true), tfliteOps };
    } catch (err) {
      if (!(err instanceof BatchError)) throw err;
      return {
        ...build(model, opts, false),
        tfliteOps,
        fixedBatchReason: err.message,
      };
    }
  }
  return { ...build(model, opts, false), tfliteOps };
}
