/**
 * Reads and writes whole ONNX models (`ModelProto`) with protobufjs, for graph surgery at import time
 * (`./fuse_translator.ts`). The schema below is the subset of onnx/onnx.proto (proto2, same field numbers) that
 * the service's graphs use: the TFLite importer's output and PyTorch's export of the translator heads. A field
 * outside it is dropped on a round trip, so the fuser checks what it reads (`assertKnown`).
 *
 * protobufjs is already in the service's module graph (onnxruntime-web depends on it), so this adds no package.
 *
 * @module
 */
import protobuf from "protobufjs";

const SCHEMA = `
syntax = "proto2";
package onnx;
message AttributeProto {
  optional string name = 1;
  optional string ref_attr_name = 21;
  optional string doc_string = 13;
  optional int32 type = 20;
  optional float f = 2;
  optional int64 i = 3;
  optional bytes s = 4;
  optional TensorProto t = 5;
  optional GraphProto g = 6;
  repeated float floats = 7;
  repeated int64 ints = 8;
  repeated bytes strings = 9;
  repeated TensorProto tensors = 10;
  repeated GraphProto graphs = 11;
}
message ValueInfoProto {
  optional string name = 1;
  optional TypeProto type = 2;
  optional string doc_string = 3;
}
message NodeProto {
  repeated string input = 1;
  repeated string output = 2;
  optional string name = 3;
  optional string op_type = 4;
  optional string domain = 7;
  repeated AttributeProto attribute = 5;
  optional string doc_string = 6;
}
message StringStringEntryProto {
  optional string key = 1;
  optional string value = 2;
}
message OperatorSetIdProto {
  optional string domain = 1;
  optional int64 version = 2;
}
message ModelProto {
  optional int64 ir_version = 1;
  repeated OperatorSetIdProto opset_import = 8;
  optional string producer_name = 2;
  optional string producer_version = 3;
  optional string domain = 4;
  optional int64 model_version = 5;
  optional string doc_string = 6;
  optional GraphProto graph = 7;
  repeated StringStringEntryProto metadata_props = 14;
}
message GraphProto {
  repeated NodeProto node = 1;
  optional string name = 2;
  repeated TensorProto initializer = 5;
  optional string doc_string = 10;
  repeated ValueInfoProto input = 11;
  repeated ValueInfoProto output = 12;
  repeated ValueInfoProto value_info = 13;
}
message TensorProto {
  repeated int64 dims = 1;
  optional int32 data_type = 2;
  repeated float float_data = 4 [packed = true];
  repeated int32 int32_data = 5 [packed = true];
  repeated bytes string_data = 6;
  repeated int64 int64_data = 7 [packed = true];
  optional string name = 8;
  optional string doc_string = 12;
  optional bytes raw_data = 9;
  repeated double double_data = 10 [packed = true];
  repeated uint64 uint64_data = 11 [packed = true];
}
message TensorShapeProto {
  message Dimension {
    optional int64 dim_value = 1;
    optional string dim_param = 2;
    optional string denotation = 3;
  }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor {
    optional int32 elem_type = 1;
    optional TensorShapeProto shape = 2;
  }
  optional Tensor tensor_type = 1;
  optional string denotation = 6;
}
`;

/** A tensor (initializer or attribute value) as protobufjs decodes it. */
export interface TensorMessage {
  name?: string;
  dims: (number | { toNumber(): number })[];
  data_type?: number;
  raw_data?: Uint8Array;
  float_data?: number[];
  int64_data?: (number | { toNumber(): number })[];
}

/** A node attribute. */
export interface AttributeMessage {
  name: string;
  type?: number;
  f?: number;
  i?: number | { toNumber(): number };
  ints?: (number | { toNumber(): number })[];
  t?: TensorMessage;
  [field: string]: unknown;
}

/** A graph node. */
export interface NodeMessage {
  input: string[];
  output: string[];
  name?: string;
  op_type: string;
  domain?: string;
  attribute: AttributeMessage[];
}

/** A graph input, output or intermediate value's declared type. */
export interface ValueInfoMessage {
  name: string;
  type?: {
    tensor_type?: {
      elem_type?: number;
      shape?: { dim: { dim_value?: number | { toNumber(): number }; dim_param?: string }[] };
    };
  };
}

/** A graph. */
export interface GraphMessage {
  name?: string;
  node: NodeMessage[];
  initializer: TensorMessage[];
  input: ValueInfoMessage[];
  output: ValueInfoMessage[];
  value_info: ValueInfoMessage[];
}

/** A model. */
export interface ModelMessage {
  ir_version?: number | { toNumber(): number };
  opset_import: { domain?: string; version?: number | { toNumber(): number } }[];
  producer_name?: string;
  graph: GraphMessage;
  metadata_props: { key: string; value: string }[];
}

let modelType: protobuf.Type | undefined;

function type(): protobuf.Type {
  return modelType ??= protobuf.parse(SCHEMA, { keepCase: true }).root.lookupType("onnx.ModelProto");
}

/**
 * Decodes an ONNX model.
 *
 * @param bytes A serialised `ModelProto`.
 * @returns The message; repeated fields are arrays (possibly empty), int64 values numbers or Longs.
 * @throws {SyntaxError} When the bytes are not a model with a graph.
 *
 * @example
 * ```ts
 * const model = decodeModel(await Deno.readFile("models/translator_image.onnx"));
 * model.graph.node.map((n) => n.op_type); // ["Gemm", "BatchNormalization", ...]
 * ```
 */
export function decodeModel(bytes: Uint8Array): ModelMessage {
  let message: ModelMessage;
  try {
    message = type().decode(bytes) as unknown as ModelMessage;
  } catch (error) {
    throw new SyntaxError(`Cannot decode ONNX model (${bytes.length} bytes): ${(error as Error).message}`);
  }
  if (!message.graph) throw new SyntaxError(`Cannot decode ONNX model (${bytes.length} bytes): it has no graph`);
  return message;
}

/**
 * Encodes an ONNX model.
 *
 * @param model A message from {@linkcode decodeModel}, possibly edited.
 * @returns The serialised `ModelProto`.
 */
export function encodeModel(model: ModelMessage): Uint8Array {
  const t = type();
  return t.encode(t.fromObject(model as unknown as Record<string, unknown>)).finish();
}

/**
 * An int64 field's value as a number (protobufjs decodes int64 as a Long when the `long` package is present).
 *
 * @param value The decoded field.
 * @returns The number.
 */
export function int64(value: number | { toNumber(): number } | undefined): number {
  if (value === undefined) return 0;
  return typeof value === "number" ? value : value.toNumber();
}
