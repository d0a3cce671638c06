/**
 * `deno task bench`: the service measured the way users feel it, beside the
 * hardware limit, in one run.
 *
 * 1. Inputs from real corpus files (`inputs.ts`).
 * 2. Cold start: spawn -> first successful request, with the encoders cached
 *    (median of several), and once with an empty cache dir (import included).
 * 3. Warm latency per input, sequential, with the Server-Timing stage split.
 * 4. Load: the bench's own keep-alive client (separate process) at concurrency 1, 2, 4, 8 on mixed image/audio, and images only
 *    at 4; peak RSS of the server process afterwards.
 * 5. The limit: encoder forward time on onnxruntime-web vs onnxruntime-node,
 *    MACs from the ONNX graph.
 * 6. Optional (`--levers`): workers x threads and the native backend, each
 *    on a fresh server.
 * 7. `bench/results/<timestamp>.json` and the generated block of
 *    `docs/performance.md`.
 *
 * Flags: `--quick` (few iterations; for the test), `--levers`, `--no-empty-cache`,
 * `--out <dir>` (default `bench/results`), `--doc <file>` (default
 * `docs/performance.md`; `--doc ""` skips it).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { loadConfig, REPO_ROOT } from "../../lib/config.ts";
import { ensureEncoders } from "../../lib/weights/ensure_encoders.ts";
import { decodeImage } from "../../lib/media/decode_image.ts";
import { decodeAudio } from "../../lib/media/decode_audio.ts";
import { toImageTensor } from "../../lib/features/image_tensor.ts";
import { audioInput } from "../../lib/features/encoder_input.ts";
import type { AudioPreprocess, ImagePreprocess } from "../../lib/encoders/card.ts";
import { type BenchInput, makeBenchInputs } from "./inputs.ts";
import { startServer } from "./server_process.ts";
import { type LatencyResult, measureLatency } from "./http_latency.ts";
import { measureCeiling, runLoad } from "./load.ts";
import { type LimitInput, measureLimit } from "./limit.ts";
import { measureForward } from "./forward_time.ts";
import { loadAverage, machineInfo } from "./machine.ts";
import { quantile, round2 } from "./stats.ts";
import { evaluateTargets, renderReport, writeReport } from "./report.ts";
import type { BenchResults, ForwardLever, LeverResult } from "./results.ts";

export type { BenchResults, ForwardLever, LeverResult };
import { existsSync } from "node:fs";

const MIXED = ["jpeg_224x224", "wav_1s", "jpeg_1280x960", "wav_10s"];

function log(line: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      quick: { type: "boolean", default: false },
      levers: { type: "boolean", default: false },
      "no-empty-cache": { type: "boolean", default: false },
      out: { type: "string", default: join(REPO_ROOT, "bench/results") },
      doc: { type: "string", default: join(REPO_ROOT, "docs/performance.md") },
    },
  });
  const quick = values.quick!;
  const config = loadConfig();
  const endpoint = existsSync(join(config.modelsDir, "manifest.json")) ? "/v1/classify" : "/v1/embed?space=encoder";
  const loadStart = loadAverage();
  log(`mode ${quick ? "quick" : "full"}, endpoint ${endpoint}, load average ${loadStart.join(" ")}`);

  const { inputs, sources } = await makeBenchInputs();
  const byName = new Map(inputs.map((i) => [i.name, i]));
  const probe = { path: endpoint, body: byName.get("jpeg_224x224")!.bytes };

  // 2. Cold start with encoders cached (the service's own cache dir, already filled).
  await ensureEncoders({
    cacheDir: config.cacheDir,
    weightsDir: config.weightsDir,
    names: [config.audioEncoder, config.imageEncoder],
  });
  const cachedMs: number[] = [];
  let rssAfterStartMb: number | undefined;
  for (let i = 0; i < (quick ? 1 : 3); i++) {
    const server = await startServer({ probe, cacheDir: config.cacheDir });
    cachedMs.push(round2(server.coldStartMs));
    rssAfterStartMb ??= server.rssMb();
    await server.close();
  }
  log(`cold start (cached encoders): ${cachedMs.join(", ")} ms`);
  const coldStart: BenchResults["coldStart"] = { cachedMs, cachedMedianMs: round2(quantile(cachedMs, 0.5)) };
  if (!values["no-empty-cache"]) {
    // Under .cache: the start task may write only there.
    await Deno.mkdir(join(REPO_ROOT, ".cache"), { recursive: true });
    const emptyCache = await Deno.makeTempDir({ dir: join(REPO_ROOT, ".cache"), prefix: "bench-cold-" });
    try {
      const server = await startServer({ probe, cacheDir: emptyCache, timeoutMs: 300_000 });
      coldStart.emptyCacheMs = round2(server.coldStartMs);
      await server.close();
      log(`cold start (empty cache, import included): ${coldStart.emptyCacheMs} ms`);
    } catch (error) {
      coldStart.emptyCacheError = error instanceof Error ? error.message.slice(0, 500) : String(error);
    } finally {
      await Deno.remove(emptyCache, { recursive: true });
    }
  }

  // 3. + 4. One server for warm latency and load.
  const server = await startServer({ probe, cacheDir: config.cacheDir });
  const latency: Record<string, LatencyResult> = {};
  try {
    for (const input of inputs) {
      latency[input.name] = await measureLatency(server.url + endpoint, input.bytes, {
        warmup: quick ? 1 : 5,
        runs: quick ? 3 : 60,
        minRuns: quick ? 3 : 15,
        maxMs: quick ? 2_000 : 15_000,
      });
      const r = latency[input.name]!;
      log(`${input.name}: p50 ${r.total.p50} p95 ${r.total.p95} p99 ${r.total.p99} ms ${JSON.stringify(r.stagesP50)}`);
    }
  } catch (error) {
    await server.close();
    throw error;
  }
  const load: BenchResults["load"] = { mixed: [], mixedInputs: MIXED, images: {} };
  const durationS = quick ? 1 : 10;
  const mixedBodies = MIXED.map((n) => byName.get(n)!.bytes);
  for (const connections of quick ? [1, 2] : [1, 2, 4, 8]) {
    const r = await runLoad(server.url + endpoint, mixedBodies, { connections, durationS });
    load.mixed.push(r);
    log(
      `mixed c=${connections}: ${r.requestsPerSecond} req/s, p50 ${r.latencyMs.p50} p99 ${r.latencyMs.p99} ms, errors ${r.errors}`,
    );
  }
  for (const name of ["jpeg_224x224", "jpeg_1280x960"]) {
    const r = await runLoad(server.url + endpoint, [byName.get(name)!.bytes], { connections: 4, durationS });
    load.images[name] = r;
    log(
      `${name} c=4: ${r.requestsPerSecond} req/s, p50 ${r.latencyMs.p50} p99 ${r.latencyMs.p99} ms, errors ${r.errors}`,
    );
  }
  const peakRssMb = server.peakRssMb();
  log(`peak RSS ${peakRssMb} MB`);
  await server.close();
  // The generator's own ceiling, with the largest mixed body, while the service is down (no CPU shared with it).
  const largest = mixedBodies.reduce((a, b) => (b.length > a.length ? b : a));
  load.ceiling = await measureCeiling(largest, { connections: quick ? 2 : 8, durationS });
  log(
    `load generator ceiling (empty Hono route, c=${load.ceiling.connections}): ${load.ceiling.requestsPerSecond} req/s`,
  );

  // 5. The limit.
  const limit = await measureLimit(await limitInputs(config, byName), {
    threads: config.threadsPerWorker,
    warmup: quick ? 1 : 5,
    iterations: quick ? 3 : 30,
  });
  for (const l of limit) {
    const ms = (r: typeof l.web) => ("medianMs" in r ? `${r.medianMs} ms` : r.error.slice(0, 200));
    log(`${l.encoder} x${l.batch}: web ${ms(l.web)}, node ${ms(l.node)}, ratio ${l.ratio}`);
  }

  // 6. Levers.
  const levers = values.levers ? await measureLevers(config.cacheDir, probe, byName, quick) : undefined;
  const forwardLevers = values.levers ? await measureForwardLevers(config, byName, quick) : undefined;

  const results: BenchResults = {
    timestamp: new Date().toISOString(),
    mode: quick ? "quick" : "full",
    machine: machineInfo(),
    loadAverage: { start: loadStart, end: loadAverage() },
    service: { workers: config.workers, threads: config.threadsPerWorker, backend: config.backend, endpoint },
    sources,
    inputs: inputs.map((i) => ({ name: i.name, description: i.description, bytes: i.bytes.length })),
    coldStart,
    latency,
    load,
    peakRssMb,
    ...(rssAfterStartMb !== undefined ? { rssAfterStartMb } : {}),
    limit,
    ...(levers ? { levers } : {}),
    ...(forwardLevers ? { forwardLevers } : {}),
    targets: [],
  };
  results.targets = evaluateTargets(results);
  await Deno.mkdir(values.out!, { recursive: true });
  const file = join(values.out!, `${results.timestamp.replace(/[:.]/g, "-")}.json`);
  await Deno.writeTextFile(file, JSON.stringify(results, null, 2) + "\n");
  log(`wrote ${file}`);
  if (values.doc) {
    await writeReport(values.doc, renderReport(results, file));
    log(`updated ${values.doc}`);
  }
  for (const t of results.targets) log(`${t.met ? "MET " : "MISS"} ${t.name}: ${t.measured} (target ${t.target})`);
}

/** Real encoder inputs: the 224 JPEG's tensor, one YAMNet patch and the 10 s clip's patches. */
async function limitInputs(
  config: ReturnType<typeof loadConfig>,
  byName: Map<string, BenchInput>,
): Promise<LimitInput[]> {
  const encoders = await ensureEncoders({
    cacheDir: config.cacheDir,
    weightsDir: config.weightsDir,
    names: [config.audioEncoder, config.imageEncoder],
  });
  const image = encoders[config.imageEncoder]!;
  const audio = encoders[config.audioEncoder]!;
  const ip = image.card.preprocess as ImagePreprocess;
  const { pixels } = await decodeImage(byName.get("jpeg_1280x960")!.bytes);
  const imageTensor = toImageTensor(pixels, { scale: ip.scale, zeroPoint: ip.zeroPoint });
  const cases: LimitInput[] = [{
    encoder: image,
    data: imageTensor,
    dims: [1, ...image.card.input.shape.slice(1).map(Number)],
  }];
  const ap = audio.card.preprocess as AudioPreprocess;
  if (ap.kind === "log_mel_patches") {
    const { samples } = await decodeAudio(byName.get("wav_10s")!.bytes);
    const patches = audioInput(audio.card, samples);
    const item = patches.itemDims[0]! * patches.itemDims[1]!;
    cases.push({ encoder: audio, data: patches.data.slice(0, item), dims: [1, ...patches.itemDims] });
    cases.push({ encoder: audio, data: patches.data, dims: [patches.count, ...patches.itemDims] });
  }
  return cases;
}

/** Service variants on fresh servers: workers x threads, and the native backend. */
async function measureLevers(
  cacheDir: string,
  probe: { path: string; body: Uint8Array<ArrayBuffer> },
  byName: Map<string, BenchInput>,
  quick: boolean,
): Promise<LeverResult[]> {
  const variants: { name: string; env: Record<string, string>; ffi?: boolean }[] = [
    { name: "1 worker x 2 threads (web)", env: { AMODAL_WORKERS: "1", AMODAL_THREADS: "2" } },
    {
      name: "1 worker x 2 threads, spinning (web)",
      env: { AMODAL_WORKERS: "1", AMODAL_THREADS: "2", AMODAL_SPIN: "1" },
    },
    { name: "1 worker x 1 thread (web)", env: { AMODAL_WORKERS: "1", AMODAL_THREADS: "1" } },
    { name: "2 workers x 1 thread (web)", env: { AMODAL_WORKERS: "2", AMODAL_THREADS: "1" } },
    { name: "2 workers x 2 threads (web)", env: { AMODAL_WORKERS: "2", AMODAL_THREADS: "2" } },
    {
      name: "1 worker x 2 threads (node)",
      env: { AMODAL_WORKERS: "1", AMODAL_THREADS: "2", AMODAL_BACKEND: "node" },
      ffi: true,
    },
    {
      name: "2 workers x 1 thread (node)",
      env: { AMODAL_WORKERS: "2", AMODAL_THREADS: "1", AMODAL_BACKEND: "node" },
      ffi: true,
    },
  ];
  const results: LeverResult[] = [];
  for (const variant of quick ? variants.slice(0, 2) : variants) {
    const server = await startServer({ probe, cacheDir, env: variant.env, allowFfi: variant.ffi ?? false });
    try {
      const p50Ms: Record<string, number> = {};
      for (const name of ["jpeg_224x224", "jpeg_1280x960", "wav_1s", "wav_10s"]) {
        const r = await measureLatency(server.url + probe.path, byName.get(name)!.bytes, {
          warmup: quick ? 1 : 3,
          runs: quick ? 3 : 25,
          minRuns: quick ? 3 : 10,
          maxMs: quick ? 1_000 : 6_000,
        });
        p50Ms[name] = r.total.p50;
      }
      const c4 = await runLoad(server.url + probe.path, [byName.get("jpeg_224x224")!.bytes], {
        connections: 4,
        durationS: quick ? 1 : 6,
      });
      results.push({
        name: variant.name,
        env: variant.env,
        coldStartMs: round2(server.coldStartMs),
        p50Ms,
        imagesPerSecondC4: c4.requestsPerSecond,
        errorsC4: c4.errors,
        peakRssMb: server.peakRssMb(),
        loadAverage: loadAverage(),
      });
      log(`lever ${variant.name}: ${JSON.stringify(results.at(-1))}`);
    } finally {
      await server.close();
    }
  }
  return results;
}

/** Encoder forward time by backend, threads and weight folding, interleaved so drifting load hits all alike. */
async function measureForwardLevers(
  config: ReturnType<typeof loadConfig>,
  byName: Map<string, BenchInput>,
  quick: boolean,
): Promise<ForwardLever[]> {
  const cases = await limitInputs(config, byName);
  const settings: [backend: "web" | "node", threads: number, fold: boolean][] = [
    ["web", 1, true],
    ["web", 1, false],
    ["web", 2, true],
    ["web", 2, false],
    ["node", 1, true],
    ["node", 2, true],
    ["node", 2, false],
  ];
  const dir = await Deno.makeTempDir({ prefix: "amodal-levers-" });
  const samples = new Map<string, { median: number[]; min: number[]; error?: string }>();
  try {
    for (let round = 0; round < (quick ? 1 : 2); round++) {
      for (const [i, c] of cases.entries()) {
        const inputPath = join(dir, `in${i}.f32`);
        await Deno.writeFile(inputPath, new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.byteLength));
        for (const [backend, threads, fold] of settings) {
          const key = JSON.stringify([i, backend, threads, fold]);
          const entry = samples.get(key) ?? { median: [], min: [] };
          samples.set(key, entry);
          try {
            const r = await measureForward({
              backend,
              threads,
              foldWeights: fold,
              modelPath: c.encoder.onnxPath,
              inputPath,
              dims: c.dims,
              output: "embedding",
              warmup: quick ? 1 : 3,
              iterations: quick ? 2 : 10,
              outputPath: join(dir, "out.f32"),
            });
            entry.median.push(r.medianMs);
            entry.min.push(r.minMs);
          } catch (error) {
            entry.error = error instanceof Error ? error.message.slice(0, 300) : String(error);
          }
        }
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  const out: ForwardLever[] = [];
  for (const [key, entry] of samples) {
    const [i, backend, threads, foldWeights] = JSON.parse(key) as [number, "web" | "node", number, boolean];
    const c = cases[i]!;
    out.push({
      encoder: c.encoder.card.name,
      batch: c.dims[0]!,
      backend,
      threads,
      foldWeights,
      medianMs: entry.median.length ? round2(quantile(entry.median, 0.5)) : null,
      minMs: entry.min.length ? round2(Math.min(...entry.min)) : null,
      ...(entry.error ? { error: entry.error } : {}),
    });
    log(`forward lever ${JSON.stringify(out.at(-1))}`);
  }
  return out;
}

if (import.meta.main) await main();
