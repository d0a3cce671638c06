/**
 * A stand-in for the worker pool, so the HTTP surface (routing, middleware, errors, limits) is tested
 * in-process with `app.request()` in milliseconds. It answers with fixed, well-formed results: the
 * models themselves are tested against the real pool in `tests/integration/`.
 *
 * @module
 */
import type { JobRunner, PoolStats } from "../../lib/worker/pool.ts";
import type { JobRequest, JobResults } from "../../lib/worker/protocol.ts";
import type { ClassifyResult, EmbedResult } from "../../lib/pipeline.ts";
import { ProblemError } from "../../lib/errors.ts";
import { loadConfig } from "../../lib/config.ts";
import { createApp } from "../../routes/app.ts";
import type { Config } from "../../lib/config.ts";
import type { Hono } from "hono";

/** Records the jobs it is given; `fail` makes the next job throw. */
export class FakeRunner implements JobRunner {
  jobs: JobRequest[] = [];
  fail: Error | undefined;

  run<J extends JobRequest>(job: J): Promise<JobResults[J["op"]]> {
    this.jobs.push(job);
    if (this.fail) return Promise.reject(this.fail);
    const timings = { decode: 1, encoder: 2 };
    const embed: EmbedResult = {
      modality: "audio",
      space: job.op === "embed" ? job.options.space : "joint",
      encoder: "yamnet",
      dim: 2,
      embedding: [0.5, 0.25],
      timings,
    };
    const classify: ClassifyResult = {
      modality: "image",
      label: "violin",
      score: 0.9,
      scores: [{ label: "violin", score: 0.9 }, { label: "cello", score: 0.1 }]
        .slice(0, job.op === "classify" ? job.options.topK : undefined),
      model: "test-model",
      timings,
    };
    const results: JobResults = { embed, classify };
    return Promise.resolve(results[job.op as J["op"]]);
  }

  stats(): PoolStats {
    return { workers: 1, ready: 1, busy: 0, queued: 0, restarts: 0, loaded: [] };
  }
}

/** An app around a {@linkcode FakeRunner}, configured from the defaults plus `overrides`. */
export function fakeApp(
  overrides: Partial<Config> = {},
  extra: { keyHashes?: Uint8Array[] } = {},
): { app: Hono; runner: FakeRunner } {
  const runner = new FakeRunner();
  const config = { ...loadConfig(() => undefined), ...overrides };
  const info = { encoders: [], labels: ["cello", "violin"] };
  const app = createApp({ config, pool: runner, info, log: () => {}, ...extra });
  return { app, runner };
}

export { ProblemError };
