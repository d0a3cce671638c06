/**
 * One encoder's forward time on one backend, in a process of its own (the
 * WASM thread count is fixed per process, and onnxruntime-web and
 * onnxruntime-node are kept apart).
 *
 * As a script: `deno run --allow-read --allow-write --allow-env --allow-ffi --allow-sys
 * scripts/bench/forward_time.ts <request.json>` prints one JSON line with the
 * timings and writes the first output to `request.outputPath`.
 * {@linkcode measureForward} runs it and parses the answer.
 *
 * @module
 */
import { join } from "node:path";
import { createSession } from "../../lib/backend/onnx.ts";
import { REPO_ROOT } from "../../lib/config.ts";
import { quantile, round2 } from "./stats.ts";

/** What to time. */
export interface ForwardRequest {
  backend: "web" | "node";
  threads: number;
  /** Fold weight DequantizeLinear at load. @default true (the backend's default) */
  foldWeights?: boolean;
  /**
   * Idle threads spin-wait between operators. @default false for web (as
   * served), true for node (onnxruntime's own default: the reference limit)
   */
  spin?: boolean;
  modelPath: string;
  /** Raw little-endian float32 input file. */
  inputPath: string;
  dims: number[];
  /** Output to time and save. */
  output: string;
  warmup: number;
  iterations: number;
  /** Where the output tensor's values are written (float32). */
  outputPath: string;
}

/** Forward timings. */
export interface ForwardResult {
  backend: "web" | "node";
  threads: number;
  foldWeights: boolean;
  spin: boolean;
  /** Session creation, ms. */
  loadMs: number;
  medianMs: number;
  minMs: number;
  p90Ms: number;
  iterations: number;
}

async function timeForward(req: ForwardRequest): Promise<ForwardResult> {
  const raw = await Deno.readFile(req.inputPath);
  const data = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const spin = req.spin ?? req.backend === "node";
  const loadStart = performance.now();
  const session = await createSession(req.modelPath, {
    backend: req.backend,
    threads: req.threads,
    spin,
    ...(req.foldWeights === undefined ? {} : { foldWeights: req.foldWeights }),
  });
  const loadMs = performance.now() - loadStart;
  const feeds = { input: { data, dims: req.dims } };
  let last: Float32Array | undefined;
  for (let i = 0; i < req.warmup; i++) await session.run(feeds, [req.output]);
  const times: number[] = [];
  for (let i = 0; i < req.iterations; i++) {
    const start = performance.now();
    const out = await session.run(feeds, [req.output]);
    times.push(performance.now() - start);
    last = out[req.output]!.data;
  }
  if (last) await Deno.writeFile(req.outputPath, new Uint8Array(last.buffer, last.byteOffset, last.byteLength));
  await session.release();
  return {
    backend: req.backend,
    threads: req.threads,
    foldWeights: req.foldWeights ?? true,
    spin,
    loadMs: round2(loadMs),
    medianMs: round2(quantile(times, 0.5)),
    minMs: round2(Math.min(...times)),
    p90Ms: round2(quantile(times, 0.9)),
    iterations: times.length,
  };
}

/**
 * Times a forward pass in a child process.
 *
 * @param req Backend, model, input file and iteration counts.
 * @returns The timings and the output values of the last run.
 * @throws {Error} With the child's stderr when it fails (e.g. onnxruntime-node cannot load).
 */
export async function measureForward(req: ForwardRequest): Promise<ForwardResult & { output: Float32Array }> {
  const requestPath = await Deno.makeTempFile({ prefix: "amodal-forward-", suffix: ".json" });
  try {
    await Deno.writeTextFile(requestPath, JSON.stringify(req));
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        // onnxruntime-node is locked in deno.lock only (serve.lock, the default, holds what `deno task start` loads).
        `--lock=${join(REPO_ROOT, "deno.lock")}`,
        "--allow-read",
        "--allow-write",
        "--allow-env",
        "--allow-ffi",
        "--allow-sys",
        new URL(import.meta.url).pathname,
        requestPath,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stdout).trim();
    if (code !== 0) {
      throw new Error(`forward_time (${req.backend}) failed: ${new TextDecoder().decode(stderr).trim().slice(-1500)}`);
    }
    const result = JSON.parse(text.split("\n").at(-1)!) as ForwardResult;
    const bytes = await Deno.readFile(req.outputPath);
    return { ...result, output: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) };
  } finally {
    await Deno.remove(requestPath);
  }
}

if (import.meta.main) {
  const req = JSON.parse(await Deno.readTextFile(Deno.args[0]!)) as ForwardRequest;
  console.log(JSON.stringify(await timeForward(req)));
}
