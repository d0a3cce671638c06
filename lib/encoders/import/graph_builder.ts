/**
 * Bookkeeping for the TFLite -> ONNX importer: ONNX nodes and initializers,
 * and for every TFLite tensor the ONNX value(s) holding it.
 *
 * TFLite is NHWC, ONNX Conv/Pool are NCHW. Rather than wrapping every conv in
 * a transpose pair, a 4-D activation may live in either layout; consumers ask
 * for the layout they need with {@linkcode GraphBuilder.value} and a
 * Transpose is inserted (once, cached) only where layouts really change.
 *
 * @module
 */
import type { OnnxNode, OnnxTensor, OnnxType } from "./onnx_proto.ts";
import type { TfliteModel, TfliteTensor } from "./tflite_model.ts";

/** Memory layout of a 4-D value: TFLite's own order or channels-first. */
export type Layout = "nhwc" | "nchw";

/** NHWC -> NCHW permutation (ONNX Transpose `perm`). */
export const TO_NCHW = [0, 3, 1, 2];
/** NCHW -> NHWC permutation. */
export const TO_NHWC = [0, 2, 3, 1];

/** Thrown when the graph cannot keep a symbolic batch dimension. */
export class BatchError extends Error {}

/** Byte size of the TFLite element types that constants use here. */
const ELEMENT_BYTES: Record<string, number> = {
  float32: 4,
  int32: 4,
  int64: 8,
  uint8: 1,
  int8: 1,
};

/** Reads a constant tensor's values as plain numbers. */
export function constValues(t: TfliteTensor): number[] {
  if (t.data === null) {
    throw new TypeError(`Tensor "${t.name}" is not a constant`);
  }
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const size = ELEMENT_BYTES[t.type];
  if (size === undefined) {
    throw new TypeError(`Cannot read constant "${t.name}" of type ${t.type}`);
  }
  const n = t.data.byteLength / size;
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    switch (t.type) {
      case "float32":
        out[i] = dv.getFloat32(4 * i, true);
        break;
      case "int32":
        out[i] = dv.getInt32(4 * i, true);
        break;
      case "int64":
        out[i] = Number(dv.getBigInt64(8 * i, true));
        break;
      case "uint8":
        out[i] = dv.getUint8(i);
        break;
      default:
        out[i] = dv.getInt8(i);
    }
  }
  return out;
}

/** Permutes a row-major array of `elemBytes`-sized elements. */
export function permuteBytes(
  data: Uint8Array,
  shape: number[],
  perm: number[],
  elemBytes: number,
): { raw: Uint8Array; dims: number[] } {
  const dims = perm.map((p) => shape[p] ?? 1);
  const inStrides = new Array<number>(shape.length).fill(1);
  for (let i = shape.length - 2; i >= 0; i--) {
    inStrides[i] = inStrides[i + 1]! * shape[i + 1]!;
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const raw = new Uint8Array(count * elemBytes);
  const idx = new Array<number>(dims.length).fill(0);
  for (let o = 0; o < count; o++) {
    let src = 0;
    for (let d = 0; d < dims.length; d++) src += idx[d]! * inStrides[perm[d]!]!;
    raw.set(data.subarray(src * elemBytes, (src + 1) * elemBytes), o * elemBytes);
    for (let d = dims.length - 1; d >= 0; d--) {
      if (++idx[d]! < dims[d]!) break;
      idx[d] = 0;
    }
  }
  return { raw, dims };
}

function f32Raw(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}

function i64Raw(values: number[]): Uint8Array {
  return new Uint8Array(BigInt64Array.from(values.map(BigInt)).buffer);
}

/** Accumulates the ONNX graph while TFLite operators are translated. */
export class GraphBuilder {
  /** Emitted nodes, in order. */
  readonly nodes: OnnxNode[] = [];
  /** Emitted initializers. */
  readonly initializers: OnnxTensor[] = [];
  /** TFLite tensors whose batch dimension follows the graph input. */
  readonly batched = new Set<number>();
  readonly #values = new Map<number, Partial<Record<Layout, string>>>();
  readonly #aliases = new Map<number, number>();
  readonly #constants = new Map<string, string>();
  #counter = 0;

  /**
   * @param model The TFLite model being imported.
   * @param symbolicBatch Whether dim 0 of the input is symbolic ("N").
   */
  constructor(readonly model: TfliteModel, readonly symbolicBatch: boolean) {}

  /** A fresh ONNX value name with a readable prefix. */
  fresh(prefix: string): string {
    return `${prefix}_${this.#counter++}`;
  }

  /** The TFLite tensor at `index`, after following identity aliases. */
  tensor(index: number): TfliteTensor {
    const t = this.model.tensors[this.resolve(index)];
    if (t === undefined) throw new RangeError(`No tensor at index ${index}`);
    return t;
  }

  /** Follows aliases (QUANTIZE/DEQUANTIZE are identities in float). */
  resolve(index: number): number {
    let i = index;
    while (this.#aliases.has(i)) i = this.#aliases.get(i)!;
    return i;
  }

  /** Makes `to` stand for the same value as `from` (no node emitted). */
  alias(to: number, from: number): void {
    this.#aliases.set(to, from);
    if (this.batched.has(this.resolve(from))) this.batched.add(to);
  }

  /** Whether the tensor (after aliases) is a constant. */
  isConst(index: number): boolean {
    return this.tensor(index).data !== null;
  }

  /** Records that the ONNX value `name` holds TFLite tensor `index` in `layout`. */
  define(index: number, name: string, layout: Layout = "nhwc"): void {
    const entry = this.#values.get(index) ?? {};
    entry[layout] = name;
    this.#values.set(index, entry);
  }

  /** The layouts the tensor is currently available in. */
  layouts(index: number): Layout[] {
    return Object.keys(this.#values.get(this.resolve(index)) ?? {}) as Layout[];
  }

  /** Static shape of a TFLite tensor (dim 0 is "N" when batched). */
  shape(index: number): number[] {
    return this.tensor(index).shape;
  }

  /** Appends a node and returns its first output name. */
  node(
    op: string,
    inputs: string[],
    attrs: OnnxNode["attrs"] = {},
    output = this.fresh(op.toLowerCase()),
  ): string {
    this.nodes.push({ op, inputs, outputs: [output], attrs, name: output });
    return output;
  }

  /** Adds a float32 initializer. */
  floats(values: ArrayLike<number>, dims: number[], prefix = "c"): string {
    return this.#init(prefix, "float32", dims, f32Raw(values));
  }

  /** Adds an int64 initializer (shapes, axes, pads). */
  ints(values: number[], dims = [values.length], prefix = "c"): string {
    return this.#init(prefix, "int64", dims, i64Raw(values));
  }

  #init(prefix: string, type: OnnxType, dims: number[], raw: Uint8Array) {
    const name = this.fresh(prefix);
    this.initializers.push({ name, type, dims, raw });
    return name;
  }

  /**
   * A constant as a float ONNX value, optionally permuted: int8/uint8
   * quantised weights stay integer initializers followed by
   * DequantizeLinear (per-channel along the permuted quantised axis); int32
   * biases are dequantised here (they are tiny); float stays float.
   */
  constant(index: number, perm?: number[]): string {
    const key = `${this.resolve(index)}:${perm?.join(",") ?? ""}`;
    const cached = this.#constants.get(key);
    if (cached !== undefined) return cached;
    const name = this.#constant(index, perm);
    this.#constants.set(key, name);
    return name;
  }

  #constant(index: number, perm?: number[]): string {
    const t = this.tensor(index);
    if (t.data === null) throw new TypeError(`"${t.name}" is not a constant`);
    const order = perm ?? t.shape.map((_, i) => i);
    const q = t.quantization;
    if (t.type === "int32" && q !== null) {
      const raw = constValues(t);
      const perChannel = q.scale.length > 1;
      const real = raw.map((v, i) =>
        (v - (q.zeroPoint[perChannel ? i : 0] ?? 0)) *
        (q.scale[perChannel ? i : 0] ?? 1)
      );
      if (t.shape.length > 1 && perChannel) {
        throw new TypeError(`Per-channel int32 constant "${t.name}" of rank > 1`);
      }
      return this.floats(real, order.map((p) => t.shape[p]!), "bias");
    }
    if (t.type === "float32" || t.type === "int32" || t.type === "int64") {
      const elem = ELEMENT_BYTES[t.type]!;
      const { raw, dims } = permuteBytes(t.data, t.shape, order, elem);
      return this.#init("w", t.type, dims, raw);
    }
    if ((t.type === "int8" || t.type === "uint8") && q !== null) {
      const { raw, dims } = permuteBytes(t.data, t.shape, order, 1);
      const w = this.#init("wq", t.type, dims, raw);
      const perChannel = q.scale.length > 1;
      const qdims = perChannel ? [q.scale.length] : [];
      const scale = this.floats(q.scale, qdims, "scale");
      const zp = this.#init(
        "zp",
        t.type,
        qdims,
        t.type === "int8" ? new Uint8Array(Int8Array.from(q.zeroPoint).buffer) : Uint8Array.from(q.zeroPoint),
      );
      const attrs: Record<string, number> = perChannel ? { axis: order.indexOf(q.axis) } : {};
      return this.node("DequantizeLinear", [w, scale, zp], attrs, this.fresh("w"));
    }
    throw new TypeError(
      `Cannot import constant "${t.name}" of type ${t.type}${q === null ? " without quantisation" : ""}`,
    );
  }

  /**
   * The ONNX value holding TFLite tensor `index` in `layout`, inserting a
   * Transpose (cached) when it only exists in the other layout.
   */
  value(index: number, layout: Layout = "nhwc"): string {
    const i = this.resolve(index);
    const t = this.tensor(i);
    if (t.data !== null) {
      const name = this.constant(i);
      if (layout === "nchw") return this.node("Transpose", [name], { perm: TO_NCHW });
      return name;
    }
    const entry = this.#values.get(i);
    if (entry === undefined) {
      throw new Error(`Tensor "${t.name}" is used before it is computed`);
    }
    const have = entry[layout];
    if (have !== undefined) return have;
    const other = layout === "nhwc" ? entry.nchw : entry.nhwc;
    if (other === undefined) throw new Error(`Tensor "${t.name}" has no value`);
    const perm = layout === "nhwc" ? TO_NHWC : TO_NCHW;
    const name = this.node("Transpose", [other], { perm }, `t${i}_${layout}`);
    entry[layout] = name;
    return name;
  }

  /** Preferred layout of an activation: NCHW when it already exists so. */
  preferred(index: number): Layout {
    return this.layouts(index).includes("nchw") ? "nchw" : "nhwc";
  }

  /** Output shape for a Reshape, with dim 0 = -1 when batched. */
  reshapeTarget(inIndex: number, outIndex: number): number[] {
    const out = [...this.shape(outIndex)];
    if (!this.batched.has(this.resolve(inIndex))) return out;
    const inShape = this.shape(inIndex);
    if (inShape[0] !== 1 || out[0] !== 1 || out.length < 2) {
      throw new BatchError(
        `reshape of ${JSON.stringify(inShape)} to ${JSON.stringify(out)} ` +
          "moves the batch dimension",
      );
    }
    out[0] = -1;
    return out;
  }
}
