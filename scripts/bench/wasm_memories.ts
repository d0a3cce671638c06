/**
 * Tracks the WebAssembly memories this isolate instantiates (onnxruntime-web, sharp-wasm, ffmpeg.wasm) by
 * wrapping `WebAssembly.instantiate`, for the memory probes (`heap_probe.ts`, `burst_probe.ts`). Import it
 * before anything that instantiates WASM. Memories are held weakly, so a retired decoder instance is still
 * collected and stops counting once it is.
 *
 * @module
 */

const Memory = WebAssembly.Memory;
const tracked: { label: string; memory: WeakRef<WebAssembly.Memory> }[] = [];

function labelOf(module: WebAssembly.Module): string {
  const exports = WebAssembly.Module.exports(module).map((e) => e.name).join(" ");
  const imports = WebAssembly.Module.imports(module).map((i) => i.name).join(" ");
  if (/Ort/.test(exports)) return "onnxruntime";
  if (/napi|emnapi/i.test(exports + " " + imports)) return "sharp";
  if (/ffprobe|ffmpeg/i.test(exports)) return "ffmpeg";
  return `wasm(${WebAssembly.Module.exports(module).length} exports)`;
}

function track(
  instance: WebAssembly.Instance,
  module: WebAssembly.Module,
  imports?: WebAssembly.Imports,
  stack = "",
): void {
  const candidates = [
    ...Object.values(instance.exports),
    ...Object.values(imports ?? {}).flatMap((ns) => Object.values(ns)),
  ];
  // The original class: a memory the module itself defines and exports is not a TrackedMemory.
  const own = candidates.find((v) => v instanceof Memory);
  if (own instanceof Memory && !tracked.some((m) => m.memory.deref() === own)) {
    // Minified exports (ffmpeg.wasm's) say nothing: then the caller's stack names the package.
    const label = labelOf(module);
    tracked.push({ label: label.startsWith("wasm(") ? labelOfStack(stack) : label, memory: new WeakRef(own) });
  }
}

/** Which package's code created a memory, from the stack at `new WebAssembly.Memory`. */
function labelOfStack(stack: string): string {
  if (/onnxruntime/.test(stack)) return "onnxruntime";
  if (/sharp/.test(stack)) return "sharp";
  if (/ffmpeg/.test(stack)) return "ffmpeg";
  if (/libheif/.test(stack)) return "libheif";
  return "wasm(js)";
}

// Memories created in JS and imported by the module (Emscripten's pthread builds: sharp-wasm, onnxruntime-web
// with threads).
WebAssembly.Memory = class TrackedMemory extends Memory {
  constructor(descriptor: WebAssembly.MemoryDescriptor) {
    super(descriptor);
    tracked.push({ label: labelOfStack(new Error().stack ?? ""), memory: new WeakRef(this) });
  }
} as typeof WebAssembly.Memory;
const Instance = WebAssembly.Instance;
WebAssembly.Instance = class TrackedInstance extends Instance {
  constructor(module: WebAssembly.Module, imports?: WebAssembly.Imports) {
    super(module, imports);
    track(this, module, imports);
  }
} as typeof WebAssembly.Instance;

const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = (async (source: BufferSource | WebAssembly.Module, imports?: WebAssembly.Imports) => {
  const stack = new Error().stack ?? "";
  const result = await instantiate(source as BufferSource, imports);
  if (result instanceof Instance) track(result, source as WebAssembly.Module, imports, stack);
  else track(result.instance, result.module, imports, stack);
  return result;
}) as typeof WebAssembly.instantiate;
const instantiateStreaming = WebAssembly.instantiateStreaming;
WebAssembly.instantiateStreaming = async (source, imports) => {
  const result = await instantiateStreaming(source, imports);
  track(result.instance, result.module, imports);
  return result;
};

/**
 * Bytes of every live tracked WebAssembly memory, summed per label (`sharp`, `onnxruntime`, `ffmpeg`, ...).
 *
 * @returns Label -> bytes (the memories' committed size, `memory.buffer.byteLength`).
 */
export function wasmMemoryBytes(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const { label, memory } of tracked) {
    const live = memory.deref();
    if (live) out[label] = (out[label] ?? 0) + live.buffer.byteLength;
  }
  return out;
}
