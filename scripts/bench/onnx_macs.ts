/**
 * Multiply-accumulate count of an ONNX graph, from its Conv, Gemm and MatMul
 * shapes, so the benchmark can say how close to the machine's arithmetic
 * limit each encoder runs.
 *
 * The converted encoders carry no `value_info`, so shapes are propagated here
 * from the graph input through the operators the importer emits (an
 * operator outside that list stops the count with its name). The reader is
 * a few lines of protobuf wire-format decoding over the fields used.
 *
 * @module
 */

/** Per-operator-type MACs of one batch-1 forward pass. */
export interface MacCount {
  /** Total multiply-accumulates for one input item (batch 1). */
  total: number;
  /** MACs by operator type (`Conv` split into `Conv` and `DepthwiseConv`). */
  byOp: Record<string, number>;
  /** Number of nodes by operator type. */
  nodes: Record<string, number>;
}

interface Node {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Map<string, { i?: number; ints?: number[]; f?: number }>;
}

interface Initializer {
  dims: number[];
  type: number;
  raw?: Uint8Array;
  int64s?: number[];
}

/** Protobuf wire-format cursor over one message. */
class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
  varint(): number {
    let result = 0;
    let shift = 1;
    for (;;) {
      const b = this.buf[this.pos++]!;
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result;
      shift *= 128;
    }
  }
  /** Signed int64 varint (dims and ints may be -1). */
  int64(): number {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = this.buf[this.pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) break;
      shift += 7n;
    }
    return Number(BigInt.asIntN(64, v));
  }
  /** Next field: number, wire type, and the payload bytes for length-delimited fields. */
  field(): { no: number; wire: number; bytes?: Uint8Array; value?: number } {
    const key = this.varint();
    const no = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) {
      const start = this.pos;
      const value = this.varint();
      return { no, wire, value, bytes: this.buf.subarray(start, this.pos) };
    }
    if (wire === 2) {
      const len = this.varint();
      const bytes = this.buf.subarray(this.pos, this.pos + len);
      this.pos += len;
      return { no, wire, bytes };
    }
    if (wire === 5) {
      const bytes = this.buf.subarray(this.pos, this.pos + 4);
      this.pos += 4;
      return { no, wire, bytes };
    }
    if (wire === 1) {
      const bytes = this.buf.subarray(this.pos, this.pos + 8);
      this.pos += 8;
      return { no, wire, bytes };
    }
    throw new Error(`Cannot read ONNX: unsupported protobuf wire type ${wire}`);
  }
}

const text = new TextDecoder();

/** Repeated int64: packed (wire 2) or one value per field. */
function int64s(f: ReturnType<Reader["field"]>, into: number[]): void {
  if (f.wire === 2) {
    const r = new Reader(f.bytes!);
    while (!r.done) into.push(r.int64());
  } else {
    into.push(new Reader(f.bytes!).int64());
  }
}

function readNode(buf: Uint8Array): Node {
  const node: Node = { op: "", inputs: [], outputs: [], attrs: new Map() };
  const r = new Reader(buf);
  while (!r.done) {
    const f = r.field();
    if (f.no === 1) node.inputs.push(text.decode(f.bytes));
    else if (f.no === 2) node.outputs.push(text.decode(f.bytes));
    else if (f.no === 4) node.op = text.decode(f.bytes);
    else if (f.no === 5) {
      const a = new Reader(f.bytes!);
      let name = "";
      const value: { i?: number; ints?: number[]; f?: number } = {};
      while (!a.done) {
        const g = a.field();
        if (g.no === 1) name = text.decode(g.bytes);
        else if (g.no === 3) value.i = new Reader(g.bytes!).int64();
        else if (g.no === 2) value.f = new DataView(g.bytes!.buffer, g.bytes!.byteOffset, 4).getFloat32(0, true);
        else if (g.no === 8) int64s(g, value.ints ??= []);
      }
      node.attrs.set(name, value);
    }
  }
  return node;
}

function readInitializer(buf: Uint8Array): [string, Initializer] {
  const init: Initializer = { dims: [], type: 0 };
  let name = "";
  const r = new Reader(buf);
  while (!r.done) {
    const f = r.field();
    if (f.no === 1) int64s(f, init.dims);
    else if (f.no === 2) init.type = f.value!;
    else if (f.no === 8) name = text.decode(f.bytes);
    else if (f.no === 9) init.raw = f.bytes;
    else if (f.no === 7) int64s(f, init.int64s ??= []);
  }
  return [name, init];
}

/** Graph input name and its dims (symbolic dims as strings). */
function readValueInfo(buf: Uint8Array): { name: string; dims: (number | string)[] } {
  let name = "";
  const dims: (number | string)[] = [];
  const r = new Reader(buf);
  while (!r.done) {
    const f = r.field();
    if (f.no === 1) name = text.decode(f.bytes);
    else if (f.no === 2) {
      const type = new Reader(f.bytes!); // TypeProto
      while (!type.done) {
        const t = type.field();
        if (t.no !== 1) continue; // tensor_type
        const tensor = new Reader(t.bytes!);
        while (!tensor.done) {
          const s = tensor.field();
          if (s.no !== 2) continue; // shape
          const shape = new Reader(s.bytes!);
          while (!shape.done) {
            const d = shape.field(); // dim
            const dim = new Reader(d.bytes!);
            let value: number | string = "?";
            while (!dim.done) {
              const v = dim.field();
              if (v.no === 1) value = v.value!;
              else if (v.no === 2) value = text.decode(v.bytes);
            }
            dims.push(value);
          }
        }
      }
    }
  }
  return { name, dims };
}

/** The graph part of a model: nodes, initializers, inputs. */
function readGraph(model: Uint8Array) {
  const r = new Reader(model);
  while (!r.done) {
    const f = r.field();
    if (f.no !== 7) continue; // ModelProto.graph
    const g = new Reader(f.bytes!);
    const nodes: Node[] = [];
    const initializers = new Map<string, Initializer>();
    const inputs: { name: string; dims: (number | string)[] }[] = [];
    while (!g.done) {
      const h = g.field();
      if (h.no === 1) nodes.push(readNode(h.bytes!));
      else if (h.no === 5) initializers.set(...readInitializer(h.bytes!));
      else if (h.no === 11) inputs.push(readValueInfo(h.bytes!));
    }
    return { nodes, initializers, inputs };
  }
  throw new Error("Cannot read ONNX: no graph");
}

function int64Values(init: Initializer): number[] {
  if (init.int64s) return init.int64s;
  if (!init.raw) return [];
  const view = new DataView(init.raw.buffer, init.raw.byteOffset, init.raw.byteLength);
  if (init.type === 7) {
    return Array.from({ length: init.raw.length / 8 }, (_, i) => Number(view.getBigInt64(i * 8, true)));
  }
  if (init.type === 6) return Array.from({ length: init.raw.length / 4 }, (_, i) => view.getInt32(i * 4, true));
  return [];
}

const prod = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

/** Broadcast shape of elementwise operands (numpy rules). */
function broadcast(shapes: number[][]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  return Array.from({ length: rank }, (_, i) => Math.max(...shapes.map((s) => s[s.length - rank + i] ?? 1)));
}

/**
 * Counts the MACs of one batch-1 forward pass of an ONNX model.
 *
 * @param model The ONNX file's bytes.
 * @returns Total and per-operator MACs.
 * @throws {Error} Naming the operator when a shape cannot be propagated.
 *
 * @example
 * ```ts
 * const { total } = countMacs(await Deno.readFile(".cache/encoders/mobilenet_v2.onnx")); // ~300.8e6
 * ```
 */
export function countMacs(model: Uint8Array): MacCount {
  const { nodes, initializers, inputs } = readGraph(model);
  const shapes = new Map<string, number[]>();
  for (const [name, init] of initializers) shapes.set(name, init.dims);
  for (const input of inputs) {
    if (!initializers.has(input.name)) shapes.set(input.name, input.dims.map((d) => typeof d === "number" ? d : 1));
  }
  const count: MacCount = { total: 0, byOp: {}, nodes: {} };
  const add = (op: string, macs: number) => {
    count.byOp[op] = (count.byOp[op] ?? 0) + macs;
    count.total += macs;
  };
  for (const node of nodes) {
    count.nodes[node.op] = (count.nodes[node.op] ?? 0) + 1;
    const ins = node.inputs.map((n) => (n === "" ? undefined : shapes.get(n)));
    const x = ins[0];
    if (!x) throw new Error(`Cannot count MACs: no shape for input "${node.inputs[0]}" of ${node.op}`);
    const ints = (name: string) => node.attrs.get(name)?.ints;
    const int = (name: string, fallback: number) => node.attrs.get(name)?.i ?? fallback;
    let out: number[];
    switch (node.op) {
      case "Conv":
      case "MaxPool":
      case "AveragePool": {
        const spatial = x.length - 2;
        const w = node.op === "Conv" ? ins[1] : undefined;
        const kernel = ints("kernel_shape") ?? w?.slice(2) ?? [];
        const strides = ints("strides") ?? Array(spatial).fill(1);
        const dilations = ints("dilations") ?? Array(spatial).fill(1);
        const pads = ints("pads") ?? Array(2 * spatial).fill(0);
        const dimsOut = kernel.map((k, i) => {
          const span = (k - 1) * dilations[i]! + 1;
          return Math.floor((x[i + 2]! + pads[i]! + pads[i + spatial]! - span) / strides[i]!) + 1;
        });
        out = [x[0]!, w ? w[0]! : x[1]!, ...dimsOut];
        if (w) {
          const group = int("group", 1);
          // Each output value sums (C_in / group) * prod(kernel) products.
          add(group > 1 && group === x[1] ? "DepthwiseConv" : "Conv", prod(out) * w[1]! * prod(kernel));
        }
        break;
      }
      case "Gemm": {
        const [w] = [ins[1]!];
        const k = int("transA", 0) ? x[0]! : x[1]!;
        const n = int("transB", 0) ? w[0]! : w[1]!;
        out = [int("transA", 0) ? x[1]! : x[0]!, n];
        add("Gemm", prod(out) * k);
        break;
      }
      case "MatMul": {
        const w = ins[1]!;
        out = [...broadcast([x.slice(0, -2), w.slice(0, -2)]), x[x.length - 2] ?? 1, w[w.length - 1]!];
        if (x.length === 1) out.splice(-2, 1);
        add("MatMul", prod(out) * x[x.length - 1]!);
        break;
      }
      case "Reshape": {
        const target = int64Values(initializers.get(node.inputs[1]!)!);
        const shape = target.map((d, i) => (d === 0 ? x[i]! : d));
        const known = prod(shape.filter((d) => d !== -1));
        out = shape.map((d) => (d === -1 ? prod(x) / known : d));
        break;
      }
      case "Flatten": {
        const axis = int("axis", 1);
        out = [prod(x.slice(0, axis)), prod(x.slice(axis))];
        break;
      }
      case "Transpose": {
        const perm = ints("perm") ?? x.map((_, i) => x.length - 1 - i);
        out = perm.map((p) => x[p]!);
        break;
      }
      case "ReduceMean":
      case "ReduceSum":
      case "ReduceMax": {
        const axes = (ints("axes") ?? (node.inputs[1] ? int64Values(initializers.get(node.inputs[1])!) : []))
          .map((a) => (a < 0 ? a + x.length : a));
        const keep = int("keepdims", 1);
        out = x.flatMap((d, i) => (axes.includes(i) ? (keep ? [1] : []) : [d]));
        break;
      }
      case "GlobalAveragePool":
        out = [x[0]!, x[1]!, ...x.slice(2).map(() => 1)];
        break;
      case "Pad": {
        const pads = node.inputs[1] ? int64Values(initializers.get(node.inputs[1])!) : ints("pads")!;
        out = x.map((d, i) => d + pads[i]! + pads[i + x.length]!);
        break;
      }
      case "Split": {
        const axis = (int("axis", 0) + x.length) % x.length;
        const sizes = node.inputs[1] ? int64Values(initializers.get(node.inputs[1])!) : ints("split") ??
          Array(node.outputs.length).fill(x[axis]! / node.outputs.length);
        node.outputs.forEach((name, i) => shapes.set(name, x.map((d, j) => (j === axis ? sizes[i]! : d))));
        continue;
      }
      case "Slice": {
        const starts = int64Values(initializers.get(node.inputs[1]!)!);
        const ends = int64Values(initializers.get(node.inputs[2]!)!);
        const axes = node.inputs[3] ? int64Values(initializers.get(node.inputs[3])!) : starts.map((_, i) => i);
        const steps = node.inputs[4] ? int64Values(initializers.get(node.inputs[4])!) : starts.map(() => 1);
        out = [...x];
        axes.forEach((a0, i) => {
          const a = a0 < 0 ? a0 + x.length : a0;
          const n = x[a]!;
          const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + n : v, 0), n);
          out[a] = Math.max(0, Math.ceil((clamp(ends[i]!) - clamp(starts[i]!)) / steps[i]!));
        });
        break;
      }
      case "Gather": {
        const axis = (int("axis", 0) + x.length) % x.length;
        const idx = ins[1] ?? [];
        out = [...x.slice(0, axis), ...idx, ...x.slice(axis + 1)];
        break;
      }
      case "Squeeze":
      case "Unsqueeze": {
        const axes = ints("axes") ?? (node.inputs[1] ? int64Values(initializers.get(node.inputs[1])!) : []);
        if (node.op === "Squeeze") {
          const norm = axes.map((a) => (a < 0 ? a + x.length : a));
          out = x.filter((d, i) => (norm.length ? !norm.includes(i) : d !== 1));
        } else {
          out = [...x];
          const rank = x.length + axes.length;
          for (const a of axes.map((a) => (a < 0 ? a + rank : a)).sort((p, q) => p - q)) out.splice(a, 0, 1);
        }
        break;
      }
      case "Concat": {
        const axis = (int("axis", 0) + x.length) % x.length;
        out = [...x];
        out[axis] = ins.reduce((s, shape) => s + (shape?.[axis] ?? 0), 0);
        break;
      }
      case "Add":
      case "Sub":
      case "Mul":
      case "Div":
      case "Pow":
      case "Max":
      case "Min":
        out = broadcast(ins.filter((s): s is number[] => s !== undefined));
        break;
      case "DequantizeLinear":
      case "QuantizeLinear":
      case "Relu":
      case "Clip":
      case "Sigmoid":
      case "Tanh":
      case "Softmax":
      case "Log":
      case "Sqrt":
      case "Exp":
      case "Abs":
      case "Neg":
      case "Identity":
      case "Cast":
        out = [...x];
        break;
      default:
        throw new Error(`Cannot count MACs: no shape rule for operator ${node.op}`);
    }
    for (const name of node.outputs) shapes.set(name, out);
  }
  return count;
}
