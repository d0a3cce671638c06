/**
 * Reads a TFLite flatbuffer into plain objects.
 *
 * Hand-written accessors for the part of the TFLite schema
 * (tensorflow/lite/schema/schema.fbs) that an importer needs; field numbers
 * below are the schema's vtable slots. Builtin options are kept as the raw
 * table so {@linkcode readOptions} can decode them per operator.
 *
 * @module
 */
import { ByteBuffer } from "flatbuffers";

/** TFLite `TensorType` enum values used to name element types. */
export const TENSOR_TYPES: Record<number, string> = {
  0: "float32",
  1: "float16",
  2: "int32",
  3: "uint8",
  4: "int64",
  5: "string",
  6: "bool",
  7: "int16",
  8: "complex64",
  9: "int8",
  10: "float64",
};

/** Quantisation parameters of one tensor (`scale.length > 1` = per-channel). */
export interface TfliteQuantization {
  /** Scales, one per channel along `axis` or a single one. */
  scale: Float32Array;
  /** Zero points, same length as `scale`. */
  zeroPoint: number[];
  /** TFLite `quantized_dimension`. */
  axis: number;
}

/** One tensor of a subgraph. */
export interface TfliteTensor {
  /** Index in the subgraph's tensor list. */
  index: number;
  /** Tensor name as stored in the flatbuffer. */
  name: string;
  /** Static shape (TFLite stores batch 1 for the usual models). */
  shape: number[];
  /** Element type name, e.g. `float32`, `int8` (see {@linkcode TENSOR_TYPES}). */
  type: string;
  /** Constant data, or `null` for activations. */
  data: Uint8Array | null;
  /** Quantisation parameters, or `null` when the tensor is plain float. */
  quantization: TfliteQuantization | null;
}

/** One operator of a subgraph. */
export interface TfliteOperator {
  /** Builtin operator code (TFLite `BuiltinOperator`), -1 for custom ops. */
  code: number;
  /** Operator name (`BuiltinOperator` enum name or custom code). */
  opName: string;
  /** Input tensor indices (-1 = optional input absent). */
  inputs: number[];
  /** Output tensor indices. */
  outputs: number[];
  /** Byte position of the builtin options table, or 0 when absent. */
  optionsPos: number;
}

/** A parsed TFLite model (main subgraph only). */
export interface TfliteModel {
  /** Tensors of subgraph 0. */
  tensors: TfliteTensor[];
  /** Operators of subgraph 0 in execution order. */
  operators: TfliteOperator[];
  /** Graph input tensor indices. */
  inputs: number[];
  /** Graph output tensor indices. */
  outputs: number[];
  /** The buffer the model was read from (options tables point into it). */
  bb: ByteBuffer;
}

/** Names of the `BuiltinOperator` codes this importer knows by name. */
export const BUILTIN_NAMES: Record<number, string> = {
  0: "ADD",
  1: "AVERAGE_POOL_2D",
  2: "CONCATENATION",
  3: "CONV_2D",
  4: "DEPTHWISE_CONV_2D",
  6: "DEQUANTIZE",
  9: "FULLY_CONNECTED",
  14: "LOGISTIC",
  17: "MAX_POOL_2D",
  18: "MUL",
  19: "RELU",
  21: "RELU6",
  22: "RESHAPE",
  25: "SOFTMAX",
  28: "TANH",
  32: "CUSTOM",
  34: "PAD",
  36: "GATHER",
  39: "TRANSPOSE",
  40: "MEAN",
  41: "SUB",
  42: "DIV",
  43: "SQUEEZE",
  45: "STRIDED_SLICE",
  47: "EXP",
  49: "SPLIT",
  53: "CAST",
  55: "MAXIMUM",
  57: "MINIMUM",
  59: "NEG",
  65: "SLICE",
  70: "EXPAND_DIMS",
  73: "LOG",
  74: "SUM",
  75: "SQRT",
  76: "RSQRT",
  77: "SHAPE",
  78: "POW",
  114: "QUANTIZE",
};

/** Absolute position of a field's value, or 0 when the field is absent. */
function field(bb: ByteBuffer, table: number, slot: number): number {
  const off = bb.__offset(table, 4 + 2 * slot);
  return off === 0 ? 0 : table + off;
}

/** Absolute positions of the tables in a vector-of-tables field. */
function tables(bb: ByteBuffer, table: number, slot: number): number[] {
  const pos = field(bb, table, slot);
  if (pos === 0) return [];
  const start = bb.__vector(table + bb.__offset(table, 4 + 2 * slot));
  const n = bb.__vector_len(table + bb.__offset(table, 4 + 2 * slot));
  return Array.from({ length: n }, (_, i) => bb.__indirect(start + 4 * i));
}

/** Reads an `[int]` vector field. */
export function readInts(bb: ByteBuffer, table: number, slot: number): number[] {
  const off = bb.__offset(table, 4 + 2 * slot);
  if (off === 0) return [];
  const start = bb.__vector(table + off);
  const n = bb.__vector_len(table + off);
  return Array.from({ length: n }, (_, i) => bb.readInt32(start + 4 * i));
}

/** Reads a scalar field of the given kind, or `dflt` when absent. */
export function readScalar(
  bb: ByteBuffer,
  table: number,
  slot: number,
  kind: "int8" | "uint8" | "int32" | "uint32" | "float32" | "bool",
  dflt: number,
): number {
  const pos = field(bb, table, slot);
  if (pos === 0) return dflt;
  switch (kind) {
    case "int8":
      return bb.readInt8(pos);
    case "uint8":
      return bb.readUint8(pos);
    case "bool":
      return bb.readUint8(pos) ? 1 : 0;
    case "int32":
      return bb.readInt32(pos);
    case "uint32":
      return bb.readUint32(pos);
    case "float32":
      return bb.readFloat32(pos);
  }
}

function readString(bb: ByteBuffer, table: number, slot: number): string {
  const off = bb.__offset(table, 4 + 2 * slot);
  return off === 0 ? "" : (bb.__string(table + off) as string);
}

function readBytes(
  bb: ByteBuffer,
  table: number,
  slot: number,
): Uint8Array | null {
  const off = bb.__offset(table, 4 + 2 * slot);
  if (off === 0) return null;
  const start = bb.__vector(table + off);
  const n = bb.__vector_len(table + off);
  if (n === 0) return null;
  return bb.bytes().subarray(start, start + n);
}

function readQuantization(
  bb: ByteBuffer,
  table: number,
): TfliteQuantization | null {
  const qOff = bb.__offset(table, 4 + 2 * 4);
  if (qOff === 0) return null;
  const q = bb.__indirect(table + qOff);
  const sOff = bb.__offset(q, 4 + 2 * 2);
  if (sOff === 0) return null;
  const sStart = bb.__vector(q + sOff);
  const n = bb.__vector_len(q + sOff);
  if (n === 0) return null;
  const scale = new Float32Array(n);
  for (let i = 0; i < n; i++) scale[i] = bb.readFloat32(sStart + 4 * i);
  const zOff = bb.__offset(q, 4 + 2 * 3);
  const zeroPoint = new Array<number>(n).fill(0);
  if (zOff !== 0) {
    const zStart = bb.__vector(q + zOff);
    for (let i = 0; i < Math.min(n, bb.__vector_len(q + zOff)); i++) {
      zeroPoint[i] = Number(bb.readInt64(zStart + 8 * i));
    }
  }
  return { scale, zeroPoint, axis: readScalar(bb, q, 6, "int32", 0) };
}

/**
 * Parses a TFLite flatbuffer (identifier `TFL3`), subgraph 0.
 *
 * @param bytes The `.tflite` file contents.
 * @returns Tensors (with constant data views into `bytes`) and operators.
 * @throws {SyntaxError} When the bytes are not a TFLite model.
 * @example
 * ```ts
 * const model = readTflite(await Deno.readFile("yamnet.tflite"));
 * console.log(model.operators.map((op) => op.opName));
 * ```
 */
export function readTflite(bytes: Uint8Array): TfliteModel {
  const bb = new ByteBuffer(bytes);
  const ident = new TextDecoder().decode(bytes.subarray(4, 8));
  if (ident !== "TFL3") {
    throw new SyntaxError(
      `Cannot read TFLite model: file identifier is "${ident}", expected "TFL3"`,
    );
  }
  const root = bb.readInt32(bb.position()) + bb.position();
  const opcodes = tables(bb, root, 1).map((t) => {
    const deprecated = readScalar(bb, t, 0, "int8", 0);
    const code = Math.max(deprecated, readScalar(bb, t, 3, "int32", 0));
    const custom = readString(bb, t, 1);
    return code === 32
      ? { code: -1, name: `CUSTOM(${custom})` }
      : { code, name: BUILTIN_NAMES[code] ?? `BUILTIN_${code}` };
  });
  const buffers = tables(bb, root, 4).map((b) => readBytes(bb, b, 0));
  const subgraph = tables(bb, root, 2)[0];
  if (subgraph === undefined) {
    throw new SyntaxError("Cannot read TFLite model: it has no subgraph");
  }
  const tensors = tables(bb, subgraph, 0).map((t, index): TfliteTensor => {
    const typeCode = readScalar(bb, t, 1, "int8", 0);
    return {
      index,
      name: readString(bb, t, 3),
      shape: readInts(bb, t, 0),
      type: TENSOR_TYPES[typeCode] ?? `type${typeCode}`,
      data: buffers[readScalar(bb, t, 2, "uint32", 0)] ?? null,
      quantization: readQuantization(bb, t),
    };
  });
  const operators = tables(bb, subgraph, 3).map((o): TfliteOperator => {
    const opcode = opcodes[readScalar(bb, o, 0, "uint32", 0)];
    if (opcode === undefined) {
      throw new SyntaxError("Cannot read TFLite model: bad opcode index");
    }
    const optOff = bb.__offset(o, 4 + 2 * 4);
    return {
      code: opcode.code,
      opName: opcode.name,
      inputs: readInts(bb, o, 1),
      outputs: readInts(bb, o, 2),
      optionsPos: optOff === 0 ? 0 : bb.__indirect(o + optOff),
    };
  });
  return {
    tensors,
    operators,
    inputs: readInts(bb, subgraph, 1),
    outputs: readInts(bb, subgraph, 2),
    bb,
  };
}
