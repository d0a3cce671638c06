/**
 * Joins an imported encoder graph and its trained translator head into one ONNX graph, so a request runs one
 * session instead of two and the pooling over an input's items (YAMNet's patches) happens inside the graph.
 *
 * The fused graph takes the encoder's input in chunks of items (the service runs at most 16 YAMNet patches at a
 * time) and carries the embedding sum from one chunk to the next:
 *
 * - inputs: the encoder's input `[n, ...]`; `embedding_sum_before` `[1, D]` (zeros for the first chunk);
 *   `items_total` `[1]`, the clip's item count (all chunks);
 * - outputs: `embedding_sum` `[1, D]` (running sum, fed to the next chunk); `embedding_mean` `[1, D]`
 *   (`embedding_sum / items_total`: the clip embedding once the last chunk has run); `joint` `[1, dim]` (the
 *   translator on `embedding_mean`); and, when the encoder has class scores, `scores_sum` and `scores_max`
 *   `[1, S]` over this chunk's items (the presence stage and an AudioSet prior read them).
 *
 * @module
 */
import {
  type AttributeMessage,
  decodeModel,
  encodeModel,
  int64,
  type ModelMessage,
  type NodeMessage,
  type ValueInfoMessage,
} from "./onnx_model.ts";

/** Bump when the fused graph's layout changes: cached fused graphs are keyed by it. */
export const FUSER_VERSION = 1;

/** Names of the fused graph's extra inputs and its outputs. */
export const FUSED = {
  sumBefore: "embedding_sum_before",
  itemsTotal: "items_total",
  sum: "embedding_sum",
  mean: "embedding_mean",
  joint: "joint",
  scoresSum: "scores_sum",
  scoresMax: "scores_max",
} as const;

/** The translator head's interface, as the model manifest records it. */
export interface TranslatorIo {
  /** Its input tensor name. */
  input: string;
  /** Its output tensor name. */
  output: string;
  /** Embedding length it reads. */
  dimIn: number;
}

/** Operators of the default domain that the fuser has been checked with (opset 13 importer, opset 17 export). */
const KNOWN_OPS = new Set([
  "Add",
  "AveragePool",
  "BatchNormalization",
  "Clip",
  "Constant",
  "Conv",
  "DequantizeLinear",
  "Div",
  "Elu",
  "Flatten",
  "Gemm",
  "Identity",
  "MatMul",
  "Mul",
  "ReduceMean",
  "ReduceSum",
  "Relu",
  "Reshape",
  "Sigmoid",
  "Softmax",
  "Sqrt",
  "Transpose",
]);

/** The opset the fused graph declares: the newest of the two, within the range the known operators keep. */
const MAX_OPSET = 17;

/**
 * Fuses an encoder graph and a translator head.
 *
 * @param encoderOnnx The imported encoder (`.cache/encoders/<name>.onnx`): outputs `embedding` `[n, D]` and
 *   optionally `scores` `[n, S]`, a symbolic batch.
 * @param translatorOnnx The translator head (`models/translator_<modality>.onnx`).
 * @param io The head's input and output names and input length.
 * @returns The fused model's bytes.
 * @throws {RangeError} When either graph uses an operator, domain or opset the fuser does not know, or the names
 *   and sizes do not fit together.
 *
 * @example
 * ```ts
 * const fused = fuseTranslator(await Deno.readFile(".cache/encoders/mobilenet_v2.onnx"),
 *   await Deno.readFile("models/translator_image.onnx"), { input: "image", output: "image_joint", dimIn: 1280 });
 * ```
 */
export function fuseTranslator(encoderOnnx: Uint8Array, translatorOnnx: Uint8Array, io: TranslatorIo): Uint8Array {
  const encoder = decodeModel(encoderOnnx);
  const translator = decodeModel(translatorOnnx);
  const opset = Math.max(defaultOpset(encoder, "encoder"), defaultOpset(translator, "translator"));
  if (opset > MAX_OPSET) throw new RangeError(`Cannot fuse: opset ${opset} is newer than ${MAX_OPSET}`);
  for (const [what, model] of [["encoder", encoder], ["translator", translator]] as const) {
    for (const node of model.graph.node) {
      if ((node.domain ?? "") !== "" || !KNOWN_OPS.has(node.op_type)) {
        throw new RangeError(`Cannot fuse: the ${what} graph uses ${node.domain || "ai.onnx"}.${node.op_type}`);
      }
    }
  }
  const g = encoder.graph;
  const encIn = g.input.filter((v) => !g.initializer.some((t) => t.name === v.name));
  if (encIn.length !== 1) throw new RangeError(`Cannot fuse: the encoder has ${encIn.length} inputs, expected 1`);
  const embedding = g.output.find((o) => o.name === "embedding");
  if (!embedding) throw new RangeError("Cannot fuse: the encoder graph has no `embedding` output");
  const dim = int64(embedding.type?.tensor_type?.shape?.dim[1]?.dim_value);
  if (dim !== io.dimIn) {
    throw new RangeError(`Cannot fuse: encoder embedding has ${dim} values, translator reads ${io.dimIn}`);
  }
  const hasScores = g.output.some((o) => o.name === "scores");
  const tIn = translator.graph.input.filter((v) => !translator.graph.initializer.some((t) => t.name === v.name));
  if (tIn.length !== 1 || tIn[0]!.name !== io.input || !translator.graph.output.some((o) => o.name === io.output)) {
    throw new RangeError(
      `Cannot fuse: translator inputs [${tIn.map((v) => v.name)}] / outputs ` +
        `[${translator.graph.output.map((o) => o.name)}] do not match ${io.input} -> ${io.output}`,
    );
  }

  // The translator's names, prefixed so they cannot collide with the encoder's; its input becomes the pooled mean.
  const rename = (name: string) =>
    name === "" ? "" : name === io.input ? FUSED.mean : name === io.output ? FUSED.joint : `translator/${name}`;
  const translatorNodes = translator.graph.node.map((n): NodeMessage => ({
    ...n,
    name: `translator/${n.name ?? n.op_type}`,
    input: n.input.map(rename),
    output: n.output.map(rename),
    attribute: n.attribute,
  }));
  const translatorInits = translator.graph.initializer.map((t) => ({ ...t, name: rename(t.name!) }));

  const axes0 = { name: "fuse/axes0", dims: [1], data_type: INT64, int64_data: [0] };
  const keep = (): AttributeMessage => ({ name: "keepdims", type: ATTR_INT, i: 1 });
  const pooling: NodeMessage[] = [
    node("ReduceSum", ["embedding", axes0.name], ["fuse/chunk_sum"], [keep()]),
    node("Add", [FUSED.sumBefore, "fuse/chunk_sum"], [FUSED.sum]),
    node("Div", [FUSED.sum, FUSED.itemsTotal], [FUSED.mean]),
    ...(hasScores
      ? [
        node("ReduceSum", ["scores", axes0.name], [FUSED.scoresSum], [keep()]),
        // ReduceMax takes `axes` as an attribute up to opset 17.
        node("ReduceMax", ["scores"], [FUSED.scoresMax], [keep(), { name: "axes", type: ATTR_INTS, ints: [0] }]),
      ]
      : []),
  ];

  const fused: ModelMessage = {
    ...encoder,
    opset_import: [{ domain: "", version: opset }],
    producer_name: "amodal fuse_translator",
    metadata_props: [
      ...(encoder.metadata_props ?? []),
      { key: "amodal.fuser", value: String(FUSER_VERSION) },
    ],
    graph: {
      ...g,
      name: `${g.name ?? "encoder"}+translator`,
      node: [...g.node, ...pooling, ...translatorNodes],
      initializer: [...g.initializer, axes0, ...translatorInits],
      input: [
        ...g.input,
        tensorInfo(FUSED.sumBefore, [1, dim]),
        tensorInfo(FUSED.itemsTotal, [1]),
      ],
      output: [
        tensorInfo(FUSED.sum, [1, dim]),
        tensorInfo(FUSED.mean, [1, dim]),
        tensorInfo(FUSED.joint, [1, "joint"]),
        ...(hasScores ? [tensorInfo(FUSED.scoresSum, [1, "S"]), tensorInfo(FUSED.scoresMax, [1, "S"])] : []),
      ],
      // Shapes inferred for the encoder alone say nothing wrong about the fused graph, but drop them: ORT infers.
      value_info: [],
    },
  };
  return encodeModel(fused);
}

const FLOAT = 1, INT64 = 7, ATTR_INT = 2, ATTR_INTS = 7;

function node(op: string, input: string[], output: string[], attribute: AttributeMessage[] = []): NodeMessage {
  return { op_type: op, name: `fuse/${output[0]}`, input, output, attribute };
}

function tensorInfo(name: string, shape: (number | string)[]): ValueInfoMessage {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: FLOAT,
        shape: { dim: shape.map((d) => typeof d === "number" ? { dim_value: d } : { dim_param: d }) },
      },
    },
  };
}

function defaultOpset(model: ModelMessage, what: string): number {
  const entries = model.opset_import.filter((o) => (o.domain ?? "") === "" || o.domain === "ai.onnx");
  if (entries.length !== 1) throw new RangeError(`Cannot fuse: the ${what} graph imports no default-domain opset`);
  const version = int64(entries[0]!.version);
  if (version < 13) throw new RangeError(`Cannot fuse: the ${what} graph's opset ${version} is older than 13`);
  return version;
}
