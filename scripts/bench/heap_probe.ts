/**
 * What each WebAssembly heap holds after large inputs (issue 16): runs the service's pipeline in
 * this isolate, as an inference worker does, and after each input prints the process RSS and the
 * size of every WebAssembly memory (onnxruntime-web, sharp-wasm, ffmpeg.wasm), after a full GC.
 *
 * ```sh
 * deno run -A --v8-flags=--expose-gc scripts/bench/heap_probe.ts
 * ```
 *
 * @module
 */
import { loadConfig } from "../../lib/config.ts";
import { ensureEncoders } from "../../lib/weights/ensure_encoders.ts";
import { Pipeline } from "../../lib/pipeline.ts";
import { adversarialInputs } from "../shared/adversarial_inputs.ts";
import { encodeAudio } from "../../lib/media/ffmpeg.ts";
import { join } from "node:path";

const memories: { label: string; memory: WebAssembly.Memory }[] = [];
function labelOf(module: WebAssembly.Module): string {
  const names = WebAssembly.Module.exports(module).map((e) => e.name).join(" ");
  if (/Ort/.test(names)) return "onnxruntime";
  if (/napi|emnapi/i.test(names + WebAssembly.Module.imports(module).map((i) => i.name).join(" "))) return "sharp";
  if (/ffprobe|ffmpeg/i.test(names)) return "ffmpeg";
  return `wasm(${WebAssembly.Module.exports(module).length} exports)`;
}
function track(instance: WebAssembly.Instance, module: WebAssembly.Module, imports?: WebAssembly.Imports) {
  const candidates = [
    ...Object.values(instance.exports),
    ...Object.values(imports ?? {}).flatMap((ns) => Object.values(ns)),
  ];
  const own = candidates.find((v) => v instanceof WebAssembly.Memory);
  if (own instanceof WebAssembly.Memory && !memories.some((m) => m.memory === own)) {
    memories.push({ label: labelOf(module), memory: own });
  }
}
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = (async (source: BufferSource | WebAssembly.Module, imports?: WebAssembly.Imports) => {
  const result = await instantiate(source as BufferSource, imports);
  if (result instanceof WebAssembly.Instance) track(result, source as WebAssembly.Module, imports);
  else track(result.instance, result.module, imports);
  return result;
}) as typeof WebAssembly.instantiate;
const instantiateStreaming = WebAssembly.instantiateStreaming;
WebAssembly.instantiateStreaming = async (source, imports) => {
  const result = await instantiateStreaming(source, imports);
  track(result.instance, result.module, imports);
  return result;
};

const MIB = 2 ** 20;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
function report(what: string): void {
  gc();
  const heaps: Record<string, number> = {};
  for (const { label, memory } of memories) {
    heaps[label] = (heaps[label] ?? 0) + Math.round(memory.buffer.byteLength / MIB);
  }
  console.log(JSON.stringify({ after: what, rssMiB: Math.round(Deno.memoryUsage().rss / MIB), wasmMiB: heaps }));
}

const config = loadConfig();
const encoders = await ensureEncoders({
  cacheDir: config.cacheDir,
  weightsDir: config.weightsDir,
  names: [config.audioEncoder, config.imageEncoder],
  log: () => {},
});
const pipeline = await Pipeline.create(config, {
  audio: encoders[config.audioEncoder]!,
  image: encoders[config.imageEncoder]!,
});
report("load");
// Made in a child process: encoding them here would grow this isolate's heaps before the first measurement.
const cache = join(config.cacheDir, "heap_probe");
if (Deno.args[0] === "--make-inputs") {
  await Deno.mkdir(cache, { recursive: true });
  for (const input of await adversarialInputs(config)) await Deno.writeFile(join(cache, input.name), input.bytes);
  const mono = new Float32Array(48_000 * config.maxAudioSeconds).map((_, i) => Math.sin(i / 20) * 0.3);
  await Deno.writeFile(join(cache, "flac-30s-48k"), await encodeAudio(mono, 48_000, "flac"));
  Deno.exit(0);
}
await new Deno.Command(Deno.execPath(), { args: ["run", "-A", new URL(import.meta.url).pathname, "--make-inputs"] })
  .output();
const inputs = [];
for (
  const name of [
    "photo-224",
    "noise-jpeg-4032x3024",
    "photo-6000x4500",
    `wav-${config.maxAudioSeconds}s-48k-stereo`,
    "random-bytes",
    "flac-30s-48k",
  ]
) {
  inputs.push({ name, bytes: await Deno.readFile(join(cache, name)) });
}
for (const input of [...inputs, ...inputs]) {
  try {
    await pipeline.classify(input.bytes);
  } catch (error) {
    console.log(`${input.name}: ${error instanceof Error ? error.message.slice(0, 80) : error}`);
  }
  report(input.name);
}
