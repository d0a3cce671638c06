/**
 * Lever experiment: forward time of the image encoder + translator as two
 * sessions (what the service runs) against one fused graph made by
 * `fuse_translator.py`, on onnxruntime-web, interleaved.
 *
 * ```sh
 * /usr/bin/python3 scripts/bench/experiments/fuse_translator.py
 * deno run -A scripts/bench/experiments/fused_forward.ts [threads]
 * ```
 *
 * @module
 */
import { createSession } from "../../../lib/backend/onnx.ts";
import { quantile } from "../stats.ts";

const threads = Number(Deno.args[0] ?? 2);
const [encoder, translator, fused] = await Promise.all([
  createSession(".cache/encoders/mobilenet_v2.onnx", { threads }),
  createSession("models/translator_image.onnx", { threads }),
  createSession(".cache/fused/mobilenet_v2+translator_image.onnx", { threads }),
]);
// A fixed pseudo-random image tensor in the encoder's [-1, 1] range.
let seed = 1;
const data = Float32Array.from(
  { length: 224 * 224 * 3 },
  () => (seed = (seed * 16807) % 2147483647) / 2147483647 * 2 - 1,
);
const input = { input: { data, dims: [1, 224, 224, 3] } };

const separate = async () => {
  const { embedding } = await encoder.run(input, ["embedding"]);
  return (await translator.run({ image: embedding! }))["image_joint"]!.data;
};
const together = async () => (await fused.run(input, ["image_joint"]))["image_joint"]!.data;

const [a, b] = [await separate(), await together()];
const maxDiff = a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i]!)), 0);
const times = { separate: [] as number[], fused: [] as number[] };
for (let i = 0; i < 45; i++) {
  for (const [name, run] of [["separate", separate], ["fused", together]] as const) {
    const start = performance.now();
    await run();
    if (i >= 5) times[name].push(performance.now() - start);
  }
}
const summary = (xs: number[]) => {
  const sorted = [...xs].sort((p, q) => p - q);
  return `median ${quantile(sorted, 0.5).toFixed(2)} ms, min ${sorted[0]!.toFixed(2)} ms`;
};
console.log(`threads ${threads}, max abs difference ${maxDiff}`);
console.log(`  two sessions: ${summary(times.separate)}`);
console.log(`  fused graph:  ${summary(times.fused)}`);
