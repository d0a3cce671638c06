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

const memories: { label: string; memory: WebAssembly.Memory }[] = [];
function labelOf(module: WebAssembly.Module): string {
  const names = WebAssembly.Module.exports(module).map((e) => e.name).join(" ");
  if (/Ort/.test(names)) return "onnxruntime";
  if (/ffprobe|ffmpeg/i.test(names)) return "ffmpeg";
  return "sharp/other";
}
function track(instance: WebAssembly.Instance, module: WebAssembly.Module, imports?: WebAssembly.Imports) {
  const own = instance.exports.memory ??
    Object.values(imports?.a ?? imports?.env ?? {}).find((v) => v instanceof WebAssembly.Memory);
  if (own instanceof WebAssembly.Memory) memories.push({ label: labelOf(module), memory: own });
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
const inputs = await adversarialInputs(config);
const wav = inputs.find((i) => i.name.startsWith("wav"))!;
const mono = new Float32Array(48_000 * config.maxAudioSeconds).map((_, i) => Math.sin(i / 20) * 0.3);
inputs.push({ name: "flac-30s-48k", bytes: await encodeAudio(mono, 48_000, "flac") as Uint8Array<ArrayBuffer> });
report("inputs made (sharp + ffmpeg used)");
for (const input of [inputs.at(-2)!, ...inputs, wav]) {
  try {
    await pipeline.classify(input.bytes);
  } catch (error) {
    console.log(`${input.name}: ${error instanceof Error ? error.message.slice(0, 80) : error}`);
  }
  report(input.name);
}
