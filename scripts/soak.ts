/**
 * Soak test (`deno task soak`): many mixed requests at a fixed concurrency
 * against a local service, to show that latency stays bounded, nothing but
 * 503 backpressure fails, and memory does not creep.
 *
 * Starts the service on 127.0.0.1 as a child process with the `start`
 * task's permissions, warms it with one pass over the distinct inputs (and
 * `--warmup` more requests, default 0), then
 * sends `--requests` requests (corpus photos, corpus FLACs and WAVs made from
 * corpus recordings: about 50/20/30) with `--concurrency` in flight, stopping
 * early at `--seconds`. Reports the status histogram, latency p50/p95/p99 and
 * the child's resident memory (RSS, workers included) over the first and
 * the last thousand requests (a fifth of the run when shorter). Exits 1 on
 * any answer other than 200 or 503, or when `--max-rss-growth` is given and
 * exceeded.
 *
 * ```sh
 * deno task soak                                  # 10,000 requests at concurrency 8
 * deno task soak --requests 200 --concurrency 4
 * deno task soak --kinds flac                     # one kind of input only
 * deno task soak --warmup 2000                    # measure after 2000 unmeasured requests
 * deno task soak --adversarial                    # memory burst of the largest inputs, c = 16 and 64
 * deno task soak --adversarial --skip video       # the same without the video (issue 16's own five inputs)
 * ```
 *
 * `--adversarial` (issue 16) instead warms the service with one pass over its inputs, then sends two bursts of
 * the largest inputs the limits allow (`scripts/shared/adversarial_inputs.ts`), 5 x C requests at
 * concurrency C = 16 and then 64 (`--concurrency 16,64`), and prints per burst the RSS before, the
 * peak during and the RSS 30 s after (`--settle`), the statuses and p99. Exits 1 when an answer
 * breaks the promise (a 5xx other than 503, a 503 without Retry-After, a refusal that is not
 * problem+json, a lost request) or, with `--max-peak-mib`, when a peak is over it.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { type LocalServer, startLocalServer } from "./shared/local_server.ts";
import { corpusWav, pickCorpus, random } from "./shared/seed_inputs.ts";
import { corpusDir } from "./shared/seed_inputs.ts";
import { join } from "node:path";
import { loadConfig } from "../lib/config.ts";
import { adversarialInputs } from "./shared/adversarial_inputs.ts";
import { runBurst } from "./shared/burst.ts";

/** One distinct request body. */
interface Input {
  name: string;
  kind: "image" | "flac" | "wav";
  bytes: Uint8Array;
}

async function inputs(seed: number): Promise<Input[]> {
  const read = (path: string) => Deno.readFile(join(corpusDir(), path));
  const out: Input[] = [];
  for (const path of await pickCorpus("image", 40, seed)) {
    out.push({ name: path, kind: "image", bytes: await read(path) });
  }
  for (const path of await pickCorpus("audio", 16, seed + 1)) {
    out.push({ name: path, kind: "flac", bytes: await read(path) });
  }
  for (const path of await pickCorpus("audio", 16, seed + 2)) {
    out.push({ name: `${path} as WAV`, kind: "wav", bytes: await corpusWav(path, 5) });
  }
  return out;
}

/** Value at quantile `q` of sorted numbers (nearest rank). */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

const MIB = 2 ** 20;

/** Share of each kind of input in the request mix (renormalised over `--kinds`). */
const MIX: Record<Input["kind"], number> = { image: 0.5, flac: 0.2, wav: 0.3 };

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      requests: { type: "string", default: "10000" },
      concurrency: { type: "string", default: "8" },
      seconds: { type: "string", default: "3600" },
      seed: { type: "string", default: "1" },
      workers: { type: "string" },
      kinds: { type: "string", default: "image,flac,wav" },
      warmup: { type: "string", default: "0" },
      "max-rss-growth": { type: "string" },
      adversarial: { type: "boolean", default: false },
      settle: { type: "string", default: "30" },
      "max-peak-mib": { type: "string" },
      skip: { type: "string", default: "" },
    },
  });
  if (values.adversarial) {
    const levels = (Deno.args.includes("--concurrency") ? values.concurrency! : "16,64").split(",").map(Number);
    const maxPeak = values["max-peak-mib"] === undefined ? Infinity : Number(values["max-peak-mib"]);
    const skip = values.skip.split(",").filter(Boolean);
    Deno.exit(await adversarial(levels, Number(values.settle), maxPeak, skip) ? 0 : 1);
  }
  const total = Number(values.requests);
  const concurrency = Number(values.concurrency);
  const seconds = Number(values.seconds);
  const seed = Number(values.seed);
  const warmup = Number(values.warmup);
  const maxGrowth = values["max-rss-growth"] === undefined ? undefined : Number(values["max-rss-growth"]);
  if (![total, concurrency, seconds, seed].every((n) => Number.isFinite(n) && n > 0)) {
    console.error(
      "usage: deno task soak [--requests N] [--concurrency C] [--seconds S] [--seed K] [--workers W] [--kinds image,flac,wav] [--warmup N]",
    );
    Deno.exit(2);
  }

  console.error("soak: preparing inputs ...");
  const pool = await inputs(seed);
  // The result cache off unless asked for: the 72 inputs repeat, and cache hits would soak the cache, not inference.
  const env: Record<string, string> = { AMODAL_CACHE_BYTES: Deno.env.get("AMODAL_CACHE_BYTES") ?? "0" };
  if (values.workers) env.AMODAL_WORKERS = values.workers;
  const server: LocalServer = await startLocalServer(env);
  const models = await (await fetch(`${server.url}/v1/models`)).json();
  // The full pipeline when a trained joint space is deployed, the encoders alone otherwise.
  const path = models.joint ? "/v1/classify" : "/v1/embed?space=encoder";
  console.error(
    `soak: ${pool.length} distinct inputs, ${server.url}${path}, ${total} requests at concurrency ${concurrency}`,
  );

  try {
    // Warm-up: every distinct input once, so first-use costs (WASM heaps growing to their working size) are paid,
    // then `--warmup` more requests from the mix (ffmpeg.wasm's memory settles only after its cores have been
    // replaced a few times: a core is replaced every 200 runs and the old one freed when the GC gets to it).
    const warmRand = random(seed + 99);
    const warm = [...pool, ...Array.from({ length: warmup }, () => pool[Math.floor(warmRand() * pool.length)]!)];
    let warmNext = 0;
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (warmNext < warm.length) {
        const input = warm[warmNext++]!;
        await (await fetch(server.url + path, { method: "POST", body: new Uint8Array(input.bytes) })).body?.cancel();
      }
    }));
    const rssWarm = server.rss() ?? NaN;

    const rand = random(seed);
    const kinds = values.kinds!.split(",").filter((k): k is Input["kind"] => k in MIX);
    if (kinds.length === 0) {
      throw new RangeError(`--kinds must name some of ${Object.keys(MIX)}, got "${values.kinds}"`);
    }
    const weightSum = kinds.reduce((sum, k) => sum + MIX[k], 0);
    const order = Array.from({ length: total }, () => {
      let r = rand() * weightSum;
      const kind = kinds.find((k) => (r -= MIX[k]) < 0) ?? kinds.at(-1)!;
      const ofKind = pool.filter((i) => i.kind === kind);
      return ofKind[Math.floor(rand() * ofKind.length)]!;
    });
    const latencies: number[] = [];
    const byKind: Record<string, number[]> = { image: [], flac: [], wav: [] };
    const statuses: Record<string, number> = {};
    const errors: string[] = [];
    const rssSamples: { done: number; rss: number }[] = [];
    let next = 0, done = 0;
    const started = performance.now();
    const deadline = started + seconds * 1000;

    const client = async (): Promise<void> => {
      while (next < total && performance.now() < deadline) {
        const input = order[next++]!;
        const t0 = performance.now();
        let key: string;
        try {
          const res = await fetch(server.url + path, {
            method: "POST",
            body: new Uint8Array(input.bytes),
            signal: AbortSignal.timeout(120_000),
          });
          await res.arrayBuffer();
          key = String(res.status);
          if (res.status !== 200 && res.status !== 503) errors.push(`${res.status} for ${input.name}`);
        } catch (error) {
          key = "network";
          errors.push(`${error} for ${input.name}`);
        }
        latencies.push(performance.now() - t0);
        byKind[input.kind]!.push(performance.now() - t0);
        statuses[key] = (statuses[key] ?? 0) + 1;
        done++;
        if (done % 25 === 0) {
          const rss = server.rss();
          if (rss !== undefined) rssSamples.push({ done, rss });
          if (done % 500 === 0) {
            console.error(`soak: ${done}/${total}, RSS ${(rss ?? NaN) / MIB | 0} MiB, ${JSON.stringify(statuses)}`);
          }
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, client));
    const elapsed = (performance.now() - started) / 1000;

    const window = Math.max(25, Math.min(1000, Math.floor(done / 5)));
    const first = rssSamples.filter((s) => s.done <= window).map((s) => s.rss);
    const last = rssSamples.filter((s) => s.done > done - window).map((s) => s.rss);
    const growth = (mean(last) - mean(first)) / mean(first);
    const sorted = [...latencies].sort((a, b) => a - b);
    const summary = {
      requests: done,
      asked: total,
      concurrency,
      seconds: Math.round(elapsed),
      warmup: pool.length + warmup,
      path,
      statuses,
      errors: errors.length,
      latencyMs: {
        p50: Math.round(quantile(sorted, 0.5)),
        p95: Math.round(quantile(sorted, 0.95)),
        p99: Math.round(quantile(sorted, 0.99)),
        max: Math.round(sorted.at(-1) ?? NaN),
        ...Object.fromEntries(
          Object.entries(byKind).map(([kind, xs]) => {
            const s = [...xs].sort((a, b) => a - b);
            return [kind, { n: s.length, p50: Math.round(quantile(s, 0.5)), p99: Math.round(quantile(s, 0.99)) }];
          }),
        ),
      },
      rssMiB: {
        afterWarmup: Math.round(rssWarm / MIB),
        firstWindow: Math.round(mean(first) / MIB),
        lastWindow: Math.round(mean(last) / MIB),
        max: Math.round(Math.max(...rssSamples.map((s) => s.rss)) / MIB),
        window,
      },
      rssGrowth: Math.round(growth * 1000) / 1000,
    };
    console.log(JSON.stringify(summary));
    for (const e of errors.slice(0, 10)) console.error(`soak: error: ${e}`);
    console.error(
      `soak: ${done} requests in ${elapsed.toFixed(0)} s (${(done / elapsed).toFixed(1)}/s); ` +
        `p50 ${summary.latencyMs.p50} ms, p95 ${summary.latencyMs.p95} ms, p99 ${summary.latencyMs.p99} ms; ` +
        `RSS ${summary.rssMiB.firstWindow} -> ${summary.rssMiB.lastWindow} MiB (${(growth * 100).toFixed(1)} %) ` +
        `over the first and last ${window} requests`,
    );
    const failed = errors.length > 0 || (maxGrowth !== undefined && growth > maxGrowth);
    await server.stop();
    Deno.exit(failed ? 1 : 0);
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/** The adversarial memory bursts; true when every answer kept the promise (and peaks stayed under `maxPeakMiB`). */
async function adversarial(
  levels: number[],
  settleSeconds: number,
  maxPeakMiB: number,
  skip: string[],
): Promise<boolean> {
  console.error("soak: preparing adversarial inputs ...");
  const inputs = (await adversarialInputs(loadConfig())).filter((input) =>
    !skip.some((prefix) => input.name.startsWith(prefix))
  );
  for (const input of inputs) console.error(`soak:   ${input.name}: ${input.bytes.length} bytes`);
  // The result cache off: the burst repeats five files, which an adversary would vary; every request must decode.
  const server = await startLocalServer({ AMODAL_CACHE_BYTES: "0" });
  try {
    const models = await (await fetch(`${server.url}/v1/models`)).json();
    const url = server.url + (models.joint ? "/v1/classify" : "/v1/embed?space=encoder");
    // One pass over every input before "resting": models and decoders load on first use, and a burst should be
    // measured against a service that has loaded them (as the plain soak does).
    for (const input of inputs) await (await fetch(url, { method: "POST", body: input.bytes })).body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const resting = server.rss()!;
    console.error(`soak: resting RSS ${Math.round(resting / MIB)} MiB`);
    let ok = true;
    for (const concurrency of levels) {
      const report = await runBurst(server, url, inputs, {
        concurrency,
        requests: 5 * concurrency,
        settleSeconds,
        expected: { "random-bytes": 415 },
      });
      const vsResting = Math.round((report.rssMiB.after * MIB - resting) / resting * 1000) / 1000;
      console.log(JSON.stringify({ ...report, restingMiB: Math.round(resting / MIB), afterVsResting: vsResting }));
      console.error(
        `soak: c=${concurrency}: ${JSON.stringify(report.statuses)}, p99 ${report.latencyMs.p99} ms; RSS ` +
          `${report.rssMiB.before} -> peak ${report.rssMiB.peak} -> ${report.rssMiB.after} MiB ${settleSeconds} s after ` +
          `(${(vsResting * 100).toFixed(1)} % vs resting)`,
      );
      for (const v of report.violations.slice(0, 10)) console.error(`soak: violation: ${v}`);
      if (report.violations.length > 0 || report.rssMiB.peak > maxPeakMiB) ok = false;
    }
    return ok;
  } finally {
    await server.stop();
  }
}
