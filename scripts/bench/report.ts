/**
 * Targets check and the Markdown summary of a benchmark run.
 *
 * The summary replaces only the block between `<!-- bench:begin -->` and
 * `<!-- bench:end -->` of `docs/performance.md`, so the hand-written
 * analysis around it stays.
 *
 * @module
 */
import { relative } from "node:path";
import { REPO_ROOT } from "../../lib/config.ts";
import type { BenchResults, TargetCheck } from "./results.ts";

export type { TargetCheck };

const BEGIN = "<!-- bench:begin -->";
const END = "<!-- bench:end -->";

/** fp32 FMAs per cycle per core assumed for the peak estimate (two 256-bit FMA pipes, as Zen 4 and most AVX2 cores). */
const FMA_LANES = 16;

/**
 * Compares a run with the issue's targets for this 2-core machine.
 *
 * @param r The run's results (targets field ignored).
 * @returns One check per target.
 */
export function evaluateTargets(r: BenchResults): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const p50 = (name: string, limit: number, label: string) => {
    const v = r.latency[name]?.total.p50;
    checks.push({
      name: `p50 ${label}`,
      target: `<= ${limit} ms`,
      measured: `${v} ms`,
      met: v !== undefined && v <= limit,
    });
  };
  // Issue 13's table: JPEG p50s 20 / 30 ms, audio kept where issue 4 put it.
  p50("jpeg_224x224", 20, "JPEG 224x224");
  p50("jpeg_1280x960", 30, "JPEG 1280x960");
  p50("wav_1s", 30, "WAV 1 s");
  p50("wav_10s", 250, "WAV 10 s");
  checks.push({
    name: "cold start: spawn -> first /v1/classify answered (encoders cached)",
    target: "<= 1000 ms",
    measured: `${r.coldStart.cachedMedianMs} ms`,
    met: r.coldStart.cachedMedianMs <= 1000,
  });
  const c4 = r.load.images["jpeg_224x224"];
  checks.push({
    name: "image classifications/s at concurrency 4 (JPEG 224)",
    target: ">= 45/s, no errors",
    measured: c4 ? `${c4.requestsPerSecond}/s, ${c4.errors} errors` : "not measured",
    met: c4 !== undefined && c4.requestsPerSecond >= 45 && c4.errors === 0,
  });
  if (r.rssAfterStartMb !== undefined) {
    checks.push({
      name: "RSS after start (after the first answer)",
      target: "<= 250 MB",
      measured: `${r.rssAfterStartMb} MB`,
      met: r.rssAfterStartMb <= 250,
    });
  }
  checks.push({ name: "peak RSS", target: "<= 500 MB", measured: `${r.peakRssMb} MB`, met: r.peakRssMb <= 500 });
  for (const l of r.limit) {
    checks.push({
      name: `web/node forward ${l.encoder} x${l.batch}`,
      target: "<= 2.5x",
      measured: l.ratio !== undefined ? `${l.ratio}x` : "node did not run",
      met: l.ratio !== undefined && l.ratio <= 2.5,
    });
  }
  return checks;
}

/**
 * Renders the generated block of `docs/performance.md`.
 *
 * @param r The run's results.
 * @param resultsFile Path of the JSON file written for this run.
 * @returns Markdown, markers included.
 */
export function renderReport(r: BenchResults, resultsFile: string): string {
  const m = r.machine;
  const mhz = cpuMhz();
  const peak = (m.cpus * mhz * FMA_LANES) / 1000;
  const lines: string[] = [BEGIN, ""];
  lines.push(`Run ${r.timestamp} (${r.mode}), \`${relative(REPO_ROOT, resultsFile)}\`.`, "");
  lines.push(
    `Machine: ${m.cpuModel}, ${m.cpus} logical CPUs at ${mhz.toFixed(0)} MHz (${m.simd.join(", ")}), ` +
      `${m.memTotalGiB} GiB; Linux ${m.kernel}; Deno ${m.deno} (V8 ${m.v8}). Load average (1/5/15 min) at start ` +
      `${r.loadAverage.start.join(" ")}, at end ${r.loadAverage.end.join(" ")}.`,
    "",
    `Service as measured: ${r.service.workers} worker(s) x ${r.service.threads} thread(s), backend ` +
      `\`${r.service.backend}\`, endpoint \`${r.service.endpoint}\`.`,
    "",
  );

  lines.push("### Targets", "", "| target | goal | measured | |", "|---|---|---|---|");
  for (const t of r.targets) {
    lines.push(`| ${t.name} | ${t.target} | ${t.measured} | ${t.met ? "met" : "**missed**"} |`);
  }

  lines.push("", "### Warm latency (sequential, after warm-up)", "");
  const stages = ["decode", "features", "encoder", "translator", "classifier"];
  lines.push(
    `| input | bytes | n | min ms | p50 ms | p95 ms | p99 ms | ${stages.map((s) => `${s} p50`).join(" | ")} |`,
    `|---|---:|---:|---:|---:|---:|---:|${stages.map(() => "---:").join("|")}|`,
  );
  for (const input of r.inputs) {
    const l = r.latency[input.name];
    if (!l) continue;
    const cells = stages.map((s) => (l.stagesP50[s] !== undefined ? String(l.stagesP50[s]) : "–"));
    lines.push(
      `| ${input.description} | ${input.bytes} | ${l.total.n} | ${l.total.min} | ${l.total.p50} | ${l.total.p95} | ${l.total.p99} | ` +
        `${cells.join(" | ")} |${l.errors ? ` ${l.errors} errors: ${l.firstError}` : ""}`,
    );
  }
  lines.push(
    "",
    "Stage times come from the service's `Server-Timing` header; the rest of p50 is HTTP, upload, the worker " +
      "hand-off and JSON.",
  );

  lines.push("", "### Cold start", "");
  lines.push(`- Encoders cached: ${r.coldStart.cachedMs.join(", ")} ms (median ${r.coldStart.cachedMedianMs} ms).`);
  if (r.coldStart.emptyCacheMs !== undefined) {
    lines.push(`- Empty cache dir (TFLite -> ONNX import included): ${r.coldStart.emptyCacheMs} ms.`);
  } else if (r.coldStart.emptyCacheError) {
    lines.push(`- Empty cache dir: failed: ${r.coldStart.emptyCacheError}`);
  }

  lines.push("", "### Load (closed loop, the bench's keep-alive client in its own process)", "");
  if (r.load.error) lines.push(r.load.error);
  else {
    lines.push(
      "| bodies | connections | req/s | p50 ms | p95 ms | p99 ms | errors |",
      "|---|---:|---:|---:|---:|---:|---:|",
    );
    for (const x of r.load.mixed) {
      lines.push(
        `| mixed (${
          r.load.mixedInputs.join(", ")
        }) | ${x.connections} | ${x.requestsPerSecond} | ${x.latencyMs.p50} | ` +
          `${x.latencyMs.p95} | ${x.latencyMs.p99} | ${x.errors} |`,
      );
    }
    for (const [name, x] of Object.entries(r.load.images)) {
      lines.push(
        `| ${name} only | ${x.connections} | ${x.requestsPerSecond} | ${x.latencyMs.p50} | ${x.latencyMs.p95} | ` +
          `${x.latencyMs.p99} | ${x.errors} |`,
      );
    }
    if (r.load.ceiling) {
      const c = r.load.ceiling;
      lines.push(
        "",
        `Load generator ceiling (same client, largest mixed body, against an empty Hono route): ` +
          `${c.requestsPerSecond} req/s at ${c.connections} connections, p50 ${c.latencyMs.p50} ms; ` +
          "rates well below it are the service's, not the client's.",
      );
    }
  }
  lines.push("", `Peak RSS of the server process (VmHWM, workers included) after all of the above: ${r.peakRssMb} MB.`);

  lines.push("", "### The limit: encoder forward time, onnxruntime-web vs onnxruntime-node", "");
  lines.push(
    `Same input (real JPEG tensor; real log-mel patches of the 10 s WAV), ${r.service.threads} thread(s), median of ` +
      `the timed runs. Peak estimate: ${m.cpus} cores x ${mhz.toFixed(0)} MHz x ${FMA_LANES} fp32 FMA/cycle = ` +
      `${peak.toFixed(0)} GMAC/s (base clock; boost clocks raise it). "bound ms" is the arithmetic bound: the ` +
      `batch's MACs at that peak.`,
    "",
    "| encoder | batch | MMAC/item | bound ms | web ms | node ms | web/node | web GMAC/s (% peak) | node GMAC/s (% peak) | max abs diff | session load web / node ms |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const l of r.limit) {
    const ms = (x: typeof l.web) => ("medianMs" in x ? String(x.medianMs) : "failed");
    const g = (v?: number) => (v === undefined ? "–" : `${v} (${((v / peak) * 100).toFixed(0)} %)`);
    lines.push(
      `| ${l.encoder} | ${l.batch} | ${(l.macsPerItem.total / 1e6).toFixed(1)} | ` +
        `${((l.macsPerItem.total * l.batch) / (peak * 1e6)).toFixed(2)} | ${ms(l.web)} | ${ms(l.node)} | ` +
        `${l.ratio ?? "–"} | ${g(l.webGmacPerS)} | ${g(l.nodeGmacPerS)} | ${l.maxAbsDiff?.toExponential(1) ?? "–"} | ` +
        `${"loadMs" in l.web ? l.web.loadMs : "–"} / ${"loadMs" in l.node ? l.node.loadMs : "–"} |`,
    );
  }
  for (const l of r.limit) {
    if ("error" in l.node) lines.push("", `onnxruntime-node failed for ${l.encoder}: ${l.node.error.slice(0, 300)}`);
  }

  if (r.levers) {
    lines.push("", "### Levers: service variants (fresh server each)", "");
    lines.push(
      "| variant | cold start ms | JPEG 224 p50 | JPEG 1280 p50 | WAV 1 s p50 | WAV 10 s p50 | JPEG 224 c=4 img/s | peak RSS MB | load avg |",
      "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    );
    for (const v of r.levers) {
      lines.push(
        `| ${v.name} | ${v.coldStartMs} | ${v.p50Ms["jpeg_224x224"]} | ${v.p50Ms["jpeg_1280x960"]} | ` +
          `${v.p50Ms["wav_1s"]} | ${v.p50Ms["wav_10s"]} | ${v.imagesPerSecondC4}${
            v.errorsC4 ? ` (${v.errorsC4} err)` : ""
          } | ` +
          `${v.peakRssMb} | ${v.loadAverage.join(" ")} |`,
      );
    }
  }
  if (r.forwardLevers) {
    lines.push("", "### Levers: encoder forward time by runtime setting (median of 2 interleaved rounds)", "");
    lines.push(
      "| encoder | batch | backend | threads | fold weight DQ | median ms | min ms |",
      "|---|---:|---|---:|---|---:|---:|",
    );
    for (const f of r.forwardLevers) {
      lines.push(
        `| ${f.encoder} | ${f.batch} | ${f.backend} | ${f.threads} | ${f.foldWeights ? "yes" : "no"} | ` +
          `${f.medianMs ?? f.error ?? "–"} | ${f.minMs ?? "–"} |`,
      );
    }
  }
  lines.push("", END);
  return lines.join("\n");
}

/**
 * Writes the generated block into a Markdown file, replacing the previous
 * block, or appending one when the file has none, then formats the file
 * with `deno fmt`.
 *
 * @param path The Markdown file (created if missing).
 * @param block Output of {@linkcode renderReport}.
 */
export async function writeReport(path: string, block: string): Promise<void> {
  let doc = "";
  try {
    doc = await Deno.readTextFile(path);
  } catch {
    doc = "# Performance\n\n";
  }
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  const next = start >= 0 && end > start
    ? doc.slice(0, start) + block + doc.slice(end + END.length)
    : doc.trimEnd() + "\n\n" + block + "\n";
  await Deno.writeTextFile(path, next);
  // Keep `deno task check` (fmt --check) green: let deno fmt lay out the generated tables.
  await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", path], stdout: "null", stderr: "null" }).output()
    .catch(() => {});
}

function cpuMhz(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/cpuinfo").match(/^cpu MHz\s*:\s*([\d.]+)/m)?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}
