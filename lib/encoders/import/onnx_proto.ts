/**
 * Minimal ONNX protobuf encoder.
 *
 * Only writes (never reads) the message fields the importer emits; field
 * numbers follow onnx/onnx.proto3. A hand-written writer keeps the converter
 * free of generated protobuf code (`onnx-proto`'s named export does not load
 * in Deno) and is a few dozen lines.
 *
 * @module
 */

/** ONNX `TensorProto.DataType` values used here. */
export const ONNX_TYPES = {
  float32: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
} as const;

/** Element type names accepted by {@linkcode OnnxTensor}. */
export type OnnxType = keyof typeof ONNX_TYPES;

/** A constant tensor (initializer). */
export interface OnnxTensor {
  /** Value name. */
  name: string;
  /** Element type. */
  type: OnnxType;
  /** Shape. */
  dims: number[];
  /** Little-endian raw bytes (`raw_data`). */
  raw: Uint8Array;
}

/** A node attribute value: number (int), `{f}` (float), number[] (ints), string, tensor. */
export type OnnxAttr = number | { f: number } | number[] | string | OnnxTensor;

/** One graph node. */
export interface OnnxNode {
  /** Operator type, e.g. `Conv`. */
  op: string;
  /** Input value names ("" = optional input omitted). */
  inputs: string[];
  /** Output value names. */
  outputs: string[];
  /** Node name (for debugging). */
  name?: string;
  /** Attributes by name. */
  attrs?: Record<string, OnnxAttr>;
}

/** A graph input or output: name, element type, shape (string = symbolic dim). */
export interface OnnxValueInfo {
  /** Value name. */
  name: string;
  /** Element type. */
  type: OnnxType;
  /** Dims; a string is a symbolic dimension (e.g. "N"). */
  shape: (number | string)[];
}

/** A whole model. */
export interface OnnxModel {
  /** Graph name. */
  name: string;
  /** Nodes in topological order. */
  nodes: OnnxNode[];
  /** Constant tensors. */
  initializers: OnnxTensor[];
  /** Graph inputs. */
  inputs: OnnxValueInfo[];
  /** Graph outputs. */
  outputs: OnnxValueInfo[];
  /** Default-domain opset version. */
  opset: number;
  /** `metadata_props` key/value pairs. */
  metadata?: Record<string, string>;
  /** `doc_string` of the model. */
  doc?: string;
}

/** Growable byte sink with protobuf primitives. */
class Writer {
  #buf = new Uint8Array(1024);
  #len = 0;

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  varint(value: number | bigint): void {
    // Negative int64 values are encoded as 10-byte two's complement.
    let v = BigInt.asUintN(64, BigInt(value));
    this.#reserve(10);
    while (v >= 0x80n) {
      this.#buf[this.#len++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.#buf[this.#len++] = Number(v);
  }

  tag(fieldNo: number, wire: number): void {
    this.varint((fieldNo << 3) | wire);
  }

  bytes(fieldNo: number, data: Uint8Array): void {
    this.tag(fieldNo, 2);
    this.varint(data.length);
    this.#reserve(data.length);
    this.#buf.set(data, this.#len);
    this.#len += data.length;
  }

  string(fieldNo: number, s: string): void {
    this.bytes(fieldNo, new TextEncoder().encode(s));
  }

  int(fieldNo: number, v: number): void {
    this.tag(fieldNo, 0);
    this.varint(v);
  }

  float(fieldNo: number, v: number): void {
    this.tag(fieldNo, 5);
    this.#reserve(4);
    new DataView(this.#buf.buffer, this.#len, 4).setFloat32(0, v, true);
    this.#len += 4;
  }

  message(fieldNo: number, write: (w: Writer) => void): void {
    const inner = new Writer();
    write(inner);
    this.bytes(fieldNo, inner.finish());
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

function writeTensor(w: Writer, t: OnnxTensor): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, ONNX_TYPES[t.type]);
  w.string(8, t.name);
  w.bytes(9, t.raw);
}

function writeAttr(w: Writer, name: string, value: OnnxAttr): void {
  w.string(1, name);
  if (typeof value === "number") {
    w.int(3, value);
    w.int(20, 2);
  } else if (typeof value === "string") {
    w.bytes(4, new TextEncoder().encode(value));
    w.int(20, 3);
  } else if (Array.isArray(value)) {
    for (const v of value) w.int(8, v);
    w.int(20, 7);
  } else if ("f" in value) {
    w.float(2, value.f);
    w.int(20, 1);
  } else {
    w.message(5, (m) => writeTensor(m, value));
    w.int(20, 4);
  }
}

function writeValueInfo(w: Writer, v: OnnxValueInfo): void {
  w.string(1, v.name);
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, ONNX_TYPES[v.type]);
      tensor.message(2, (shape) => {
        for (const d of v.shape) {
          shape.message(1, (dim) => {
            if (typeof d === "string") dim.string(2, d);
            else dim.int(1, d);
          });
        }
      });
    }));
}

/**
 * Serialises a model to ONNX protobuf bytes (IR version 8).
 *
 * @param model The model description.
 * @returns The `.onnx` file contents.
 * @example
 * ```ts
 * const bytes = encodeOnnx({
 *   name: "id", opset: 13, initializers: [],
 *   nodes: [{ op: "Identity", inputs: ["x"], outputs: ["y"] }],
 *   inputs: [{ name: "x", type: "float32", shape: ["N", 2] }],
 *   outputs: [{ name: "y", type: "float32", shape: ["N", 2] }],
 * });
 * ```
 */
export function encodeOnnx(model: OnnxModel): Uint8Array {
  const w = new Writer();
  w.int(1, 8);
  w.string(2, "amodal-tflite-import");
  if (model.doc) w.string(6, model.doc);
  w.message(7, (g) => {
    for (const n of model.nodes) {
      g.message(1, (nw) => {
        for (const i of n.inputs) nw.string(1, i);
        for (const o of n.outputs) nw.string(2, o);
        if (n.name) nw.string(3, n.name);
        nw.string(4, n.op);
        for (const [k, v] of Object.entries(n.attrs ?? {})) {
          nw.message(5, (a) => writeAttr(a, k, v));
        }
      });
    }
    g.string(2, model.name);
    for (const t of model.initializers) g.message(5, (tw) => writeTensor(tw, t));
    for (const v of model.inputs) g.message(11, (vw) => writeValueInfo(vw, v));
    for (const v of model.outputs) g.message(12, (vw) => writeValueInfo(vw, v));
  });
  w.message(8, (o) => {
    o.string(1, "");
    o.int(2, model.opset);
  });
  for (const [k, v] of Object.entries(model.metadata ?? {})) {
    w.message(14, (e) => {
      e.string(1, k);
      e.string(2, v);
    });
  }
  return w.finish();
}
