/**
 * Translations of the TFLite builtin operators used by the pinned encoders
 * into ONNX (opset 13) nodes. Activations are computed in float: QUANTIZE and
 * DEQUANTIZE of activations are identities, quantised weights become
 * DequantizeLinear, exactly how `../shared/weights/reference` was produced.
 *
 * @module
 */
import { BatchError, constValues, type GraphBuilder, type Layout } from "./graph_builder.ts";
import { readScalar, type TfliteOperator } from "./tflite_model.ts";

/** Translates one operator; registered per builtin name in {@linkcode OPS}. */
export type OpConverter = (g: GraphBuilder, op: TfliteOperator) => void;

/** NHWC axis -> NCHW axis. */
const NCHW_AXIS = [0, 2, 3, 1];

function opt(
  g: GraphBuilder,
  op: TfliteOperator,
  slot: number,
  kind: Parameters<typeof readScalar>[3],
  dflt: number,
): number {
  return op.optionsPos === 0 ? dflt : readScalar(g.model.bb, op.optionsPos, slot, kind, dflt);
}

function input(op: TfliteOperator, i: number): number {
  const idx = op.inputs[i];
  if (idx === undefined || idx < 0) {
    throw new RangeError(`${op.opName} has no input ${i}`);
  }
  return idx;
}

function output(op: TfliteOperator, i = 0): number {
  const idx = op.outputs[i];
  if (idx === undefined) throw new RangeError(`${op.opName} has no output ${i}`);
  return idx;
}

/** Marks outputs batched when any non-constant input is. */
function propagateBatch(g: GraphBuilder, op: TfliteOperator): boolean {
  const batched = op.inputs.some((i) => i >= 0 && g.batched.has(g.resolve(i)));
  if (batched) { for (const o of op.outputs) g.batched.add(o); }
  return batched;
}

/** Applies a TFLite fused activation (NONE, RELU, RELU_N1_TO_1, RELU6, TANH). */
function activate(g: GraphBuilder, x: string, code: number): string {
  switch (code) {
    case 0:
      return x;
    case 1:
      return g.node("Relu", [x]);
    case 2:
      return g.node("Clip", [x, g.floats([-1], []), g.floats([1], [])]);
    case 3:
      return g.node("Clip", [x, g.floats([0], []), g.floats([6], [])]);
    case 4:
      return g.node("Tanh", [x]);
    default:
      throw new TypeError(`Unsupported fused activation function ${code}`);
  }
}

/** Explicit [begin_h, begin_w, end_h, end_w] pads for TF SAME/VALID. */
function pads(
  padding: number,
  inHW: number[],
  kernel: number[],
  strides: number[],
  dilations: number[],
): number[] {
  if (padding === 1) return [0, 0, 0, 0]; // VALID
  const begin: number[] = [];
  const end: number[] = [];
  for (let d = 0; d < 2; d++) {
    const size = inHW[d]!;
    const stride = strides[d]!;
    const eff = (kernel[d]! - 1) * dilations[d]! + 1;
    const out = Math.ceil(size / stride);
    const total = Math.max((out - 1) * stride + eff - size, 0);
    // TF puts the odd pixel at the end (ONNX SAME_UPPER).
    begin.push(Math.floor(total / 2));
    end.push(total - Math.floor(total / 2));
  }
  return [...begin, ...end];
}

function conv(g: GraphBuilder, op: TfliteOperator, depthwise: boolean): void {
  propagateBatch(g, op);
  const x = input(op, 0);
  const w = input(op, 1);
  const wShape = g.shape(w);
  const inShape = g.shape(x);
  // Options: padding, stride_w, stride_h, [depth_multiplier], activation, dil_w, dil_h.
  const padding = opt(g, op, 0, "int8", 0);
  const strides = [opt(g, op, 2, "int32", 1), opt(g, op, 1, "int32", 1)];
  const act = opt(g, op, depthwise ? 4 : 3, "int8", 0);
  const dilations = depthwise
    ? [opt(g, op, 6, "int32", 1), opt(g, op, 5, "int32", 1)]
    : [opt(g, op, 5, "int32", 1), opt(g, op, 4, "int32", 1)];
  const kernel = [wShape[1]!, wShape[2]!];
  // TFLite filters are OHWI ([1, H, W, C*M] for depthwise); ONNX wants OIHW.
  const weight = g.constant(w, depthwise ? [3, 0, 1, 2] : [0, 3, 1, 2]);
  const inputs = [g.value(x, "nchw"), weight];
  const bias = op.inputs[2];
  if (bias !== undefined && bias >= 0) inputs.push(g.constant(bias));
  const y = g.node("Conv", inputs, {
    kernel_shape: kernel,
    strides,
    dilations,
    pads: pads(padding, [inShape[1]!, inShape[2]!], kernel, strides, dilations),
    group: depthwise ? inShape[3]! : 1,
  });
  g.define(output(op), activate(g, y, act), "nchw");
}

function pool(g: GraphBuilder, op: TfliteOperator, onnxOp: string): void {
  propagateBatch(g, op);
  const x = input(op, 0);
  const inShape = g.shape(x);
  const padding = opt(g, op, 0, "int8", 0);
  const strides = [opt(g, op, 2, "int32", 1), opt(g, op, 1, "int32", 1)];
  const kernel = [opt(g, op, 4, "int32", 1), opt(g, op, 3, "int32", 1)];
  const y = g.node(onnxOp, [g.value(x, "nchw")], {
    kernel_shape: kernel,
    strides,
    pads: pads(padding, [inShape[1]!, inShape[2]!], kernel, strides, [1, 1]),
  });
  g.define(output(op), activate(g, y, opt(g, op, 5, "int8", 0)), "nchw");
}

function binary(g: GraphBuilder, op: TfliteOperator, onnxOp: string): void {
  propagateBatch(g, op);
  const a = input(op, 0);
  const b = input(op, 1);
  // Stay channels-first when both operands are 4-D activations already there.
  const layout: Layout = [a, b].every((i) => !g.isConst(i) && g.shape(i).length === 4 && g.preferred(i) === "nchw")
    ? "nchw"
    : "nhwc";
  const y = g.node(onnxOp, [g.value(a, layout), g.value(b, layout)]);
  // ADD/MUL/SUB/DIV options all start with fused_activation_function.
  g.define(output(op), activate(g, y, opt(g, op, 0, "int8", 0)), layout);
}

function unary(onnxOp: string): OpConverter {
  return (g, op) => {
    propagateBatch(g, op);
    const x = input(op, 0);
    const layout = g.preferred(x);
    g.define(output(op), g.node(onnxOp, [g.value(x, layout)]), layout);
  };
}

/** QUANTIZE/DEQUANTIZE/identity-like ops: the float value passes through. */
const passThrough: OpConverter = (g, op) => {
  g.alias(output(op), input(op, 0));
};

function reshape(g: GraphBuilder, op: TfliteOperator): void {
  propagateBatch(g, op);
  const x = input(op, 0);
  const target = g.reshapeTarget(x, output(op));
  g.define(output(op), g.node("Reshape", [g.value(x), g.ints(target)]));
}

function mean(g: GraphBuilder, op: TfliteOperator): void {
  propagateBatch(g, op);
  const x = input(op, 0);
  const rank = g.shape(x).length;
  const axes = constValues(g.tensor(input(op, 1))).map((a) => a < 0 ? a + rank : a);
  if (axes.includes(0) && g.batched.has(g.resolve(x))) {
    throw new BatchError("MEAN over the batch dimension");
  }
  const keep = opt(g, op, 0, "bool", 0);
  // Channels-first is fine when the kept axes keep their relative order.
  const sameOrder = keep === 1 ||
    [1, 2].every((a) => axes.includes(a)) && !axes.includes(3);
  const layout: Layout = rank === 4 && sameOrder ? g.preferred(x) : "nhwc";
  const mapped = layout === "nchw" ? axes.map((a) => NCHW_AXIS[a]!) : axes;
  const y = g.node("ReduceMean", [g.value(x, layout)], {
    axes: mapped,
    keepdims: keep,
  });
  g.define(output(op), y, keep === 1 ? layout : "nhwc");
}

function fullyConnected(g: GraphBuilder, op: TfliteOperator): void {
  propagateBatch(g, op);
  const x = input(op, 0);
  const w = input(op, 1);
  const units = g.shape(w)[1]!;
  let xv = g.value(x);
  if (g.shape(x).length !== 2) {
    // TFLite flattens every leading dimension into rows.
    if (g.batched.has(g.resolve(x)) && g.shape(x)[0] !== 1) {
      throw new BatchError("FULLY_CONNECTED input mixes batch and rows");
    }
    xv = g.node("Reshape", [xv, g.ints([-1, units])]);
  }
  const inputs = [xv, g.constant(w)];
  const bias = op.inputs[2];
  if (bias !== undefined && bias >= 0) inputs.push(g.constant(bias));
  let y = g.node("Gemm", inputs, { transB: 1 });
  y = activate(g, y, opt(g, op, 0, "int8", 0));
  const out = output(op);
  if (g.shape(out).length !== 2) {
    y = g.node("Reshape", [y, g.ints(g.reshapeTarget(x, out))]);
  }
  g.define(out, y);
}

function softmax(g: GraphBuilder, op: TfliteOperator): void {
  propagateBatch(g, op);
  const beta = opt(g, op, 0, "float32", 1);
  let x = g.value(input(op, 0));
  if (beta !== 1) x = g.node("Mul", [x, g.floats([beta], [])]);
  g.define(output(op), g.node("Softmax", [x], { axis: -1 }));
}

function split(g: GraphBuilder, op: TfliteOperator): void {
  propagateBatch(g, op);
  const x = input(op, 1);
  const rank = g.shape(x).length;
  const axisRaw = constValues(g.tensor(input(op, 0)))[0] ?? 0;
  const axis = axisRaw < 0 ? axisRaw + rank : axisRaw;
  // A one-way split (YAMNet's single "tower") is an identity, whatever the axis.
  if (op.outputs.length === 1) {
    g.alias(output(op), x);
    return;
  }
  if (axis === 0 && g.batched.has(g.resolve(x))) {
    throw new BatchError("SPLIT along the batch dimension");
  }
  const layout = rank === 4 ? g.preferred(x) : "nhwc";
  const names = op.outputs.map((o) => `t${o}_${layout}`);
  g.nodes.push({
    op: "Split",
    inputs: [g.value(x, layout)],
    outputs: names,
    attrs: { axis: layout === "nchw" ? NCHW_AXIS[axis]! : axis },
  });
  op.outputs.forEach((o, i) => g.define(o, names[i]!, layout));
}

/** Ops whose batch handling is not generalised: only valid with a fixed batch. */
function fixedBatchOnly(g: GraphBuilder, op: TfliteOperator): void {
  if (propagateBatch(g, op)) {
    throw new BatchError(`${op.opName} on a batched tensor`);
  }
}

function pad(g: GraphBuilder, op: TfliteOperator): void {
  fixedBatchOnly(g, op);
  const p = constValues(g.tensor(input(op, 1)));
  const rank = p.length / 2;
  const begins = Array.from({ length: rank }, (_, i) => p[2 * i]!);
  const ends = Array.from({ length: rank }, (_, i) => p[2 * i + 1]!);
  const y = g.node("Pad", [g.value(input(op, 0)), g.ints([...begins, ...ends])]);
  g.define(output(op), y);
}

function slice(g: GraphBuilder, op: TfliteOperator): void {
  fixedBatchOnly(g, op);
  const x = input(op, 0);
  const shape = g.shape(x);
  const begin = constValues(g.tensor(input(op, 1)));
  const size = constValues(g.tensor(input(op, 2)));
  const end = size.map((s, i) => s < 0 ? shape[i]! : begin[i]! + s);
  const y = g.node("Slice", [
    g.value(x),
    g.ints(begin),
    g.ints(end),
    g.ints(begin.map((_, i) => i)),
  ]);
  g.define(output(op), y);
}

function stridedSlice(g: GraphBuilder, op: TfliteOperator): void {
  fixedBatchOnly(g, op);
  const x = input(op, 0);
  const shape = g.shape(x);
  const begin = constValues(g.tensor(input(op, 1)));
  const end = constValues(g.tensor(input(op, 2)));
  const strides = constValues(g.tensor(input(op, 3)));
  const beginMask = opt(g, op, 0, "int32", 0);
  const endMask = opt(g, op, 1, "int32", 0);
  const ellipsis = opt(g, op, 2, "int32", 0);
  const newAxis = opt(g, op, 3, "int32", 0);
  const shrink = opt(g, op, 4, "int32", 0);
  if (ellipsis !== 0 || newAxis !== 0) {
    throw new TypeError("STRIDED_SLICE with ellipsis/new-axis masks is unsupported");
  }
  const starts: number[] = [];
  const ends: number[] = [];
  begin.forEach((b, i) => {
    const s = strides[i]!;
    const bit = 1 << i;
    const dim = shape[i]!;
    const start = beginMask & bit ? (s > 0 ? 0 : dim - 1) : b;
    starts.push(start);
    if (shrink & bit) ends.push(start < 0 ? start + dim + 1 : start + 1);
    else ends.push(endMask & bit ? (s > 0 ? dim : -dim - 1) : end[i]!);
  });
  let y = g.node("Slice", [
    g.value(x),
    g.ints(starts),
    g.ints(ends),
    g.ints(starts.map((_, i) => i)),
    g.ints(strides),
  ]);
  if (shrink !== 0) y = g.node("Reshape", [y, g.ints(g.shape(output(op)))]);
  g.define(output(op), y);
}

function gather(g: GraphBuilder, op: TfliteOperator): void {
  fixedBatchOnly(g, op);
  const axis = opt(g, op, 0, "int32", 0);
  const indices = constValues(g.tensor(input(op, 1)));
  const idx = g.ints(indices, g.shape(input(op, 1)));
  g.define(
    output(op),
    g.node("Gather", [g.value(input(op, 0)), idx], { axis }),
  );
}

function dequantize(g: GraphBuilder, op: TfliteOperator): void {
  // Constant weights stay quantised (the consumer emits DequantizeLinear);
  // activations are already float here.
  g.alias(output(op), input(op, 0));
}

/** Converters by TFLite builtin operator name. */
export const OPS: Record<string, OpConverter> = {
  ADD: (g, op) => binary(g, op, "Add"),
  SUB: (g, op) => binary(g, op, "Sub"),
  MUL: (g, op) => binary(g, op, "Mul"),
  DIV: (g, op) => binary(g, op, "Div"),
  AVERAGE_POOL_2D: (g, op) => pool(g, op, "AveragePool"),
  MAX_POOL_2D: (g, op) => pool(g, op, "MaxPool"),
  CONV_2D: (g, op) => conv(g, op, false),
  DEPTHWISE_CONV_2D: (g, op) => conv(g, op, true),
  DEQUANTIZE: dequantize,
  QUANTIZE: passThrough,
  FULLY_CONNECTED: fullyConnected,
  GATHER: gather,
  LOG: unary("Log"),
  LOGISTIC: unary("Sigmoid"),
  SQRT: unary("Sqrt"),
  RELU: unary("Relu"),
  TANH: unary("Tanh"),
  RELU6: (g, op) => {
    propagateBatch(g, op);
    const x = input(op, 0);
    const layout = g.preferred(x);
    g.define(output(op), activate(g, g.value(x, layout), 3), layout);
  },
  MEAN: mean,
  PAD: pad,
  RESHAPE: reshape,
  SLICE: slice,
  SOFTMAX: softmax,
  SPLIT: split,
  STRIDED_SLICE: stridedSlice,
};
