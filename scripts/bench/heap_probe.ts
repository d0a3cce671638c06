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
import { wasmMemoryBytes } from "./wasm_memories.ts";
import { loadConfig } from "../../lib/config.ts";
import { ensureEncoders } from "../../lib/weights/ensure_encoders.ts";
import { Pipeline } from "../../lib/pipeline.ts";
import { adversarialInputs } from "../shared/adversarial_inputs.ts";
import { encodeAudio } from "../../lib/media/ffmpeg.ts";
import { join } from "node:path";

const MIB = 2 ** 20;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
function report(what: string): void {
  gc();
  const heaps = Object.fromEntries(Object.entries(wasmMemoryBytes()).map(([k, v]) => [k, Math.round(v / MIB)]));
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
await new Deno.Command(Deno.execPath(), {
  args: ["run", "--lock=deno.lock", "-A", new URL(import.meta.url).pathname, "--make-inputs"],
})
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
    `video-3840w-${config.maxAudioSeconds}s`,
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
