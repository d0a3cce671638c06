/**
 * Writes a minimal one-operator TFLite flatbuffer (`y = OP(x)`, float32) so
 * tests can exercise the reader and the importer's error paths on a real
 * file format without a large model.
 *
 * @module
 */
import { Builder } from "flatbuffers";

/**
 * Builds `y = op(x)` for a builtin operator code.
 *
 * @param code TFLite `BuiltinOperator` value (e.g. 14 LOGISTIC, 47 EXP).
 * @param shape Shape of x and y.
 * @returns The `.tflite` bytes.
 */
export function tinyTflite(code: number, shape: number[]): Uint8Array {
  const b = new Builder(1024);
  const ints = (values: number[]) => {
    b.startVector(4, values.length, 4);
    for (let i = values.length - 1; i >= 0; i--) b.addInt32(values[i]!);
    return b.endVector();
  };
  const offsets = (values: number[]) => {
    b.startVector(4, values.length, 4);
    for (let i = values.length - 1; i >= 0; i--) b.addOffset(values[i]!);
    return b.endVector();
  };
  b.startObject(1);
  const buffer = b.endObject();
  const tensor = (name: string) => {
    const nameOff = b.createString(name);
    const shapeOff = ints(shape);
    b.startObject(5);
    b.addFieldOffset(0, shapeOff, 0);
    b.addFieldOffset(3, nameOff, 0);
    return b.endObject();
  };
  const tensors = offsets([tensor("x"), tensor("y")]);
  const opInputs = ints([0]);
  const opOutputs = ints([1]);
  b.startObject(3);
  b.addFieldOffset(1, opInputs, 0);
  b.addFieldOffset(2, opOutputs, 0);
  const operator = b.endObject();
  const operators = offsets([operator]);
  b.startObject(4);
  b.addFieldInt8(0, Math.min(code, 127), 0);
  b.addFieldInt32(3, code, 0);
  const opcode = b.endObject();
  const graphInputs = ints([0]);
  const graphOutputs = ints([1]);
  b.startObject(5);
  b.addFieldOffset(0, tensors, 0);
  b.addFieldOffset(1, graphInputs, 0);
  b.addFieldOffset(2, graphOutputs, 0);
  b.addFieldOffset(3, operators, 0);
  const subgraph = b.endObject();
  const opcodes = offsets([opcode]);
  const subgraphs = offsets([subgraph]);
  const buffers = offsets([buffer]);
  b.startObject(5);
  b.addFieldInt32(0, 3, 0);
  b.addFieldOffset(1, opcodes, 0);
  b.addFieldOffset(2, subgraphs, 0);
  b.addFieldOffset(4, buffers, 0);
  b.finish(b.endObject(), "TFL3");
  return b.asUint8Array();
}
