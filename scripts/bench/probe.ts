/**
 * The issue-13 table in about a minute, for comparing settings pair by pair on a shared machine:
 * cold start to the first `/v1/classify` answer, RSS after that answer, p50 JPEG 224 (and 1280x960),
 * images/s at concurrency 4, peak RSS after every bench input. Inputs are cached in
 * `.cache/bench-inputs/` so repeated runs do not rebuild them.
 *
 * `deno run -A scripts/bench/probe.ts [--runs N] [--seconds S] [--inputs all|image] [--entry main.ts|serve.ts]
 * [--root <another checkout>]` (env `AMODAL_*` is passed to the server; `--root` runs another checkout's service
 * with this one's encoder cache, for before/after pairs).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { REPO_ROOT } from "../../lib/config.ts";
import { type BenchInput, makeBenchInputs } from "./inputs.ts";
import { startServer } from "./server_process.ts";
import { measureLatency } from "./http_latency.ts";

const CACHE = join(REPO_ROOT, ".cache/bench-inputs");

/**
 * The bench inputs, built once into `.cache/bench-inputs/` and read from there afterwards.
 *
 * @returns The inputs.
 */
export async function cachedInputs(): Promise<BenchInput[]> {
  try {
    const index = JSON.parse(await Deno.readTextFile(join(CACHE, "index.json"))) as Omit<BenchInput, "bytes">[];
    return await Promise.all(index.map(async (i) => ({ ...i, bytes: await Deno.readFile(join(CACHE, i.name)) })));
  } catch {
    const { inputs } = await makeBenchInputs();
    await Deno.mkdir(CACHE, { recursive: true });
    for (const i of inputs) await Deno.writeFile(join(CACHE, i.name), i.bytes);
    await Deno.writeTextFile(
      join(CACHE, "index.json"),
      JSON.stringify(inputs.map(({ bytes: _, ...rest }) => rest)),
    );
    return inputs;
  }
}

/**
 * `connections` clients each POSTing `bodies` in turn for `seconds` (a closed loop: a client sends its next request
 * when the last one is answered).
 *
 * @param url Endpoint.
 * @param bodies Request bodies, cycled.
 * @param options Clients and duration.
 * @returns Successful requests per second and the number of non-2xx answers.
 */
export async function closedLoop(
  url: string,
  bodies: Uint8Array<ArrayBuffer>[],
  options: { connections: number; seconds: number },
): Promise<{ perSecond: number; errors: number; requests: number; latencyMs: number[] }> {
  const end = performance.now() + options.seconds * 1000;
  let errors = 0;
  const latencyMs: number[] = [];
  const client = async (offset: number) => {
    for (let i = offset; performance.now() < end; i++) {
      const sent = performance.now();
      const res = await fetch(url, { method: "POST", body: bodies[i % bodies.length]! });
      await res.body?.cancel();
      if (res.ok) latencyMs.push(performance.now() - sent);
      else errors++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: options.connections }, (_, i) => client(i)));
  const perSecond = Math.round(latencyMs.length / ((performance.now() - start) / 1000) * 10) / 10;
  return { perSecond, errors, requests: latencyMs.length + errors, latencyMs };
}

/** One probe of a freshly started server. */
export interface ProbeResult {
  coldStartMs: number;
  rssAfterFirstMb: number;
  p50Jpeg224Ms: number;
  p50Jpeg1280Ms: number;
  imagesPerSecondC4: number;
  errorsC4: number;
  peakRssMb: number;
  healthz: unknown;
}

/**
 * Starts the service, measures, stops it.
 *
 * @param inputs The bench inputs.
 * @param options Load seconds, whether to send audio, the entry module.
 * @returns The figures.
 */
export async function probe(
  inputs: BenchInput[],
  options: { seconds: number; audio: boolean; entry: "main.ts" | "serve.ts"; root?: string },
): Promise<ProbeResult> {
  const byName = new Map(inputs.map((i) => [i.name, i]));
  const jpeg = byName.get("jpeg_224x224")!.bytes;
  const server = await startServer({
    probe: { path: "/v1/classify", body: jpeg },
    entry: options.entry,
    ...(options.root ? { root: options.root } : {}),
  });
  try {
    const rssAfterFirstMb = server.rssMb();
    const url = `${server.url}/v1/classify`;
    const p224 = await measureLatency(url, jpeg, { warmup: 3, runs: 30, maxMs: 4000 });
    const p1280 = await measureLatency(url, byName.get("jpeg_1280x960")!.bytes, { warmup: 3, runs: 30, maxMs: 4000 });
    const load = await closedLoop(url, [jpeg], { connections: 4, seconds: options.seconds });
    for (const input of inputs) {
      if (!options.audio && input.modality === "audio") continue;
      for (let i = 0; i < 3; i++) {
        await (await fetch(url, { method: "POST", body: input.bytes })).body?.cancel();
      }
    }
    const healthz = await (await fetch(`${server.url}/healthz`)).json();
    return {
      coldStartMs: Math.round(server.coldStartMs),
      rssAfterFirstMb,
      p50Jpeg224Ms: p224.total.p50,
      p50Jpeg1280Ms: p1280.total.p50,
      imagesPerSecondC4: load.perSecond,
      errorsC4: load.errors,
      peakRssMb: server.peakRssMb(),
      healthz,
    };
  } finally {
    await server.close();
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      runs: { type: "string", default: "1" },
      seconds: { type: "string", default: "8" },
      inputs: { type: "string", default: "all" },
      entry: { type: "string", default: "main.ts" },
      root: { type: "string" },
    },
  });
  const inputs = await cachedInputs();
  const env = Object.entries(Deno.env.toObject()).filter(([k]) => k.startsWith("AMODAL_"));
  for (let i = 0; i < Number(values.runs); i++) {
    const result = await probe(inputs, {
      seconds: Number(values.seconds),
      audio: values.inputs === "all",
      entry: values.entry as "main.ts" | "serve.ts",
      ...(values.root ? { root: values.root } : {}),
    });
    const load = Deno.loadavg().map((x) => x.toFixed(1)).join(" ");
    console.log(JSON.stringify({ env: Object.fromEntries(env), load, ...result }));
  }
}
