/**
 * What holds memory at the peak of the adversarial burst (issue 16), per component.
 *
 * Runs the service as a child process (the start task's environment and V8 flags, `-A` so that it can read
 * `/proc/self/smaps`) with probes in every isolate it owns: the main isolate samples every 50 ms the process
 * RSS, its own V8 heap, sharp-wasm's WebAssembly memory, the bytes the in-flight budget holds, and what each
 * inference worker last reported (`probe_worker.ts`: onnxruntime-web and ffmpeg.wasm memories, V8 heap); at
 * each new RSS high it also splits the resident pages by mapping (`/proc/self/smaps`): WebAssembly memories
 * (a read-write mapping in front of the rest of its reservation, up to its maximum), the deno binary and libraries, the brk
 * heap, and other anonymous memory (V8 heaps, malloc's mmapped blocks and arenas, thread stacks). Then it
 * sends the same bursts as `deno task soak --adversarial` and prints, per burst, the sample at peak RSS.
 *
 * ```sh
 * deno run -A scripts/bench/burst_probe.ts                      # c = 16 and 64, defaults
 * AMODAL_WORKERS=2 AMODAL_THREADS=1 deno run -A scripts/bench/burst_probe.ts --concurrency 16
 * ```
 *
 * Any `AMODAL_*` variable in the environment is passed on to the service.
 *
 * @module
 */
import "./wasm_memories.ts";
import { parseArgs } from "node:util";
import { wasmMemoryBytes } from "./wasm_memories.ts";
import { loadConfig } from "../../lib/config.ts";
import { adversarialInputs } from "../shared/adversarial_inputs.ts";
import { runBurst } from "../shared/burst.ts";
import { startLocalServer } from "../shared/local_server.ts";

const MIB = 2 ** 20;

/** One sample of the service's memory, in bytes. */
interface Sample {
  rss: number;
  main: { heapTotal: number; external: number; wasm: Record<string, number> };
  budgetUsed: number;
  workers: Record<string, { heapTotal: number; external: number; wasm: Record<string, number> }>;
  smaps?: Record<string, number>;
}

/** Resident bytes per kind of mapping, from `/proc/self/smaps`. */
function smapsResident(): Record<string, number> {
  const text = Deno.readTextFileSync("/proc/self/smaps");
  const vmas: { start: number; end: number; perms: string; path: string; rss: number }[] = [];
  for (const line of text.split("\n")) {
    const head = line.match(/^([0-9a-f]+)-([0-9a-f]+) (\S+) \S+ \S+ \S+\s*(.*)$/);
    if (head) {
      vmas.push({
        start: parseInt(head[1]!, 16),
        end: parseInt(head[2]!, 16),
        perms: head[3]!,
        path: head[4]!,
        rss: 0,
      });
    } else if (line.startsWith("Rss:")) vmas.at(-1)!.rss = Number(line.split(/\s+/)[1]) * 1024;
  }
  const out: Record<string, number> = { wasm: 0, files: 0, brk: 0, anon: 0 };
  for (let i = 0; i < vmas.length; i++) {
    const v = vmas[i]!;
    const next = vmas[i + 1];
    if (v.path === "[heap]") out.brk! += v.rss;
    else if (v.path.startsWith("/")) out.files! += v.rss;
    else if (
      v.perms.startsWith("rw") && !v.path && next && next.start === v.end && next.perms.startsWith("---") &&
      next.end - next.start >= 256 * 2 ** 20
    ) out.wasm! += v.rss; // a WebAssembly memory: committed pages in front of its guard reservation
    else out.anon! += v.rss;
  }
  return out;
}

/** Child: the service with probes, plus `GET /__probe` (`?reset` starts a new peak). */
async function serve(): Promise<void> {
  const { prepareService } = await import("../../lib/service.ts");
  const { createApp } = await import("../../routes/app.ts");
  const { InflightBudget } = await import("../../lib/http/inflight_budget.ts");
  const config = loadConfig();
  const workers: Sample["workers"] = {};
  new BroadcastChannel("amodal-probe").onmessage = (event) => {
    const { worker, ...rest } = event.data;
    workers[worker] = rest;
  };
  const { pool, info } = await prepareService(config, {
    workerUrl: new URL("./probe_worker.ts", import.meta.url),
    log: () => {},
  });
  const budget = new InflightBudget({ capacity: config.maxInflightBytes });
  const app = createApp({ config, pool, info, budget, log: () => {} });
  let peak: Sample | undefined;
  const sample = (): void => {
    const { rss, heapTotal, external } = Deno.memoryUsage();
    if (peak && rss <= peak.rss) return;
    peak = {
      rss,
      main: { heapTotal, external, wasm: wasmMemoryBytes() },
      budgetUsed: budget.used,
      workers: structuredClone(workers),
    };
    peak.smaps = smapsResident();
  };
  setInterval(sample, 50);
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, (req) => {
    const url = new URL(req.url);
    if (url.pathname !== "/__probe") return app.fetch(req);
    if (url.searchParams.has("reset")) peak = undefined;
    sample();
    return Response.json({ ...peak, smaps: peak?.smaps ?? smapsResident() });
  });
  console.error(`amodal listening on http://127.0.0.1:${(server.addr as Deno.NetAddr).port}`);
}

function mib(bytes: number | undefined): number {
  return Math.round((bytes ?? 0) / MIB);
}

/** One line of the attribution table from the sample at peak RSS. */
function attribute(s: Sample): Record<string, number> {
  const workerList = Object.values(s.workers);
  const sum = (f: (w: Sample["workers"][string]) => number) => workerList.reduce((a, w) => a + f(w), 0);
  const row: Record<string, number> = {
    rss: mib(s.rss),
    "main V8 heap": mib(s.main.heapTotal),
    "main external (bodies, buffers)": mib(s.main.external),
    "budget held": mib(s.budgetUsed),
    "sharp wasm (committed)": mib(s.main.wasm.sharp),
    "workers V8 heap": mib(sum((w) => w.heapTotal)),
    "workers external": mib(sum((w) => w.external)),
    "onnxruntime wasm (committed)": mib(sum((w) => w.wasm.onnxruntime ?? 0)),
    "ffmpeg wasm (committed)": mib(sum((w) => w.wasm.ffmpeg ?? 0)),
  };
  if (s.smaps) {
    row["smaps: wasm resident"] = mib(s.smaps.wasm);
    row["smaps: binary + libs"] = mib(s.smaps.files);
    row["smaps: brk heap"] = mib(s.smaps.brk);
    row["smaps: other anon"] = mib(s.smaps.anon);
    row["other anon - V8 heaps seen"] = mib(s.smaps.anon! - s.main.heapTotal - sum((w) => w.heapTotal));
  }
  return row;
}

if (import.meta.main) {
  if (Deno.args[0] === "--serve") {
    await serve();
  } else {
    const { values } = parseArgs({ args: Deno.args, options: { concurrency: { type: "string", default: "16,64" } } });
    const config = loadConfig();
    const inputs = await adversarialInputs(config);
    const env: Record<string, string> = { AMODAL_CACHE_BYTES: "0" };
    for (const [k, v] of Object.entries(Deno.env.toObject())) if (k.startsWith("AMODAL_")) env[k] = v;
    const server = await startLocalServer(env, {
      entry: new URL(import.meta.url).pathname,
      args: ["--serve"],
      allowAll: true,
    });
    try {
      const models = await (await fetch(`${server.url}/v1/models`)).json();
      const url = server.url + (models.joint ? "/v1/classify" : "/v1/embed?space=encoder");
      for (const input of inputs) await (await fetch(url, { method: "POST", body: input.bytes })).body?.cancel();
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      const resting: Sample = await (await fetch(`${server.url}/__probe?reset`)).json();
      console.log(JSON.stringify({ at: "resting", ...attribute(resting) }));
      for (const concurrency of values.concurrency!.split(",").map(Number)) {
        await (await fetch(`${server.url}/__probe?reset`)).body?.cancel();
        const report = await runBurst(server, url, inputs, {
          concurrency,
          requests: 5 * concurrency,
          settleSeconds: 30,
          expected: { "random-bytes": 415 },
        });
        const peak: Sample = await (await fetch(`${server.url}/__probe`)).json();
        console.log(JSON.stringify({ at: `peak c=${concurrency}`, ...attribute(peak), vmHWM: report.rssMiB.peak }));
        console.error(
          `c=${concurrency}: ${
            JSON.stringify(report.statuses)
          } p99 ${report.latencyMs.p99} ms, RSS ${report.rssMiB.before} -> ${report.rssMiB.peak} -> ${report.rssMiB.after}; violations ${report.violations.length}`,
        );
      }
    } finally {
      await server.stop();
    }
  }
}
