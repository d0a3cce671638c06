/**
 * Encoder + translator fused into one graph vs run as two sessions (issue 13), per request, in one process so that
 * drifting load hits both alike: two pipelines on the same encoders (`AMODAL_FUSE` on and off), the bench's inputs
 * decoded once, then rounds that alternate which pipeline goes first; wall time and the process's CPU time per call. Times `classify` (features, encoder,
 * translator, classifier head, presence: everything after decoding) and `embed?space=encoder` (where the fused
 * graph still runs the translator's nodes: onnxruntime runs every node whatever the fetches).
 *
 * `deno run -A scripts/bench/fusion.ts [--rounds N] [--threads T] [--inputs jpeg_224x224,wav_1s,wav_10s]` prints one JSON line per input and operation.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { cpuUsage } from "node:process";
import { loadConfig } from "../../lib/config.ts";
import { ensureEncoders } from "../../lib/weights/ensure_encoders.ts";
import { Pipeline } from "../../lib/pipeline.ts";
import { decodeMedia, type Media } from "../../lib/media/decode_media.ts";
import { cachedInputs } from "./probe.ts";
import { quantile, round2 } from "./stats.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "60" },
    threads: { type: "string", default: "2" },
    inputs: { type: "string", default: "jpeg_224x224,wav_1s,wav_10s" },
  },
});
const rounds = Number(values.rounds);
const config = { ...loadConfig(), threadsPerWorker: Number(values.threads) };
const names = [config.audioEncoder, config.imageEncoder];
const found = await ensureEncoders({ names, log: () => {} });
const files = { audio: found[config.audioEncoder]!, image: found[config.imageEncoder]! };
const fused = await Pipeline.create({ ...config, fuse: true }, files);
const apart = await Pipeline.create({ ...config, fuse: false }, files);

const wanted = values.inputs!.split(",");
const inputs = (await cachedInputs()).filter((i) => wanted.includes(i.name));
const limits = { image: { size: 224, centralFraction: 0.875 } };
const cases: [string, Media][] = [];
for (const input of inputs) cases.push([input.name, await decodeMedia(input.bytes, limits)]);

const ops = {
  classify: (p: Pipeline, m: Media) => p.classify(m),
  "embed encoder": (p: Pipeline, m: Media) => p.embed(m, "encoder"),
};
for (const [name, media] of cases) {
  for (const [op, run] of Object.entries(ops)) {
    for (let i = 0; i < 5; i++) {
      await run(fused, media);
      await run(apart, media);
    }
    const times = { fused: [] as number[], apart: [] as number[] };
    const cpu = { fused: [] as number[], apart: [] as number[] };
    const load = Deno.loadavg()[0]!;
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 === 0 ? (["fused", "apart"] as const) : (["apart", "fused"] as const);
      for (const which of order) {
        const start = performance.now(), cpuStart = cpuUsage();
        await run(which === "fused" ? fused : apart, media);
        times[which].push(performance.now() - start);
        // CPU time of the process (all its threads): the work done, much less disturbed by other processes' load.
        const used = cpuUsage(cpuStart);
        cpu[which].push((used.user + used.system) / 1000);
      }
    }
    const p50 = (xs: number[]) => round2(quantile(xs, 0.5));
    const diffs = times.fused.map((f, i) => times.apart[i]! - f);
    const cpuDiffs = cpu.fused.map((f, i) => cpu.apart[i]! - f);
    console.log(JSON.stringify({
      input: name,
      op,
      threads: config.threadsPerWorker,
      rounds,
      p50Apart: p50(times.apart),
      p50Fused: p50(times.fused),
      // Per-round difference (apart - fused): its median and quartiles say how sure the saving is.
      savedP25: round2(quantile(diffs, 0.25)),
      savedP50: round2(quantile(diffs, 0.5)),
      savedP75: round2(quantile(diffs, 0.75)),
      cpuP50Apart: p50(cpu.apart),
      cpuP50Fused: p50(cpu.fused),
      cpuSavedP25: round2(quantile(cpuDiffs, 0.25)),
      cpuSavedP50: round2(quantile(cpuDiffs, 0.5)),
      cpuSavedP75: round2(quantile(cpuDiffs, 0.75)),
      load: [load, Deno.loadavg()[0]!].map((x) => x.toFixed(1)).join(" -> "),
    }));
  }
}
