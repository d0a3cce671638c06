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
import type { OpenAPIHono } from "@hono/zod-openapi";
import { InflightBudget } from "../../lib/http/inflight_budget.ts";
import { CollectionStore } from "../../lib/collections/store.ts";

/**
 * Records the jobs it is given; `fail` makes the next job throw; `onRun` runs first and may hold the
 * job (a promise) to keep it in flight.
 */
export class FakeRunner implements JobRunner {
  jobs: JobRequest[] = [];
  fail: Error | undefined;
  onRun: ((job: JobRequest) => void | Promise<void>) | undefined;

  async run<J extends JobRequest>(job: J): Promise<JobResults[J["op"]]> {
    this.jobs.push(job);
    await this.onRun?.(job);
    if (this.fail) throw this.fail;
    const timings = { decode: 1, encoder: 2 };
    const given = job.bytes ? givenVector(job.bytes) : undefined;
    const embed: EmbedResult = {
      modality: given?.modality ?? "audio",
      space: job.op === "embed" ? job.options.space : "joint",
      encoder: "yamnet",
      dim: given?.vector.length ?? 2,
      embedding: given?.vector ?? [0.5, 0.25],
      timings,
    };
    const classify: ClassifyResult = {
      modality: given?.modality ?? "image",
      label: "violin",
      score: 0.9,
      scores: [{ label: "violin", score: 0.9 }, { label: "cello", score: 0.1 }]
        .slice(0, job.op === "classify" ? job.options.topK : undefined),
      model: "test-model",
      ...(job.op === "classify" && job.options.embedding ? { embedding: given?.vector ?? [0.5, 0.25] } : {}),
      timings,
    };
    const results: JobResults = { embed, classify };
    return results[job.op as J["op"]];
  }

  stats(): PoolStats {
    return { workers: 1, ready: 1, busy: 0, queued: 0, restarts: 0, loaded: [] };
  }
}

/**
 * Files of the form `audio:[1,0]` or `image:[0,1]` stand for a sound or a picture with that joint embedding,
 * so collection tests choose their vectors.
 */
function givenVector(bytes: Uint8Array): { modality: "audio" | "image"; vector: number[] } | undefined {
  const match = /^(audio|image):(\[.*\])$/s.exec(new TextDecoder().decode(bytes.subarray(0, 4096)));
  return match ? { modality: match[1] as "audio" | "image", vector: JSON.parse(match[2]!) } : undefined;
}

/**
 * An app around a {@linkcode FakeRunner}, configured from the defaults plus `overrides`; `budget`
 * (default: one of `maxInflightBytes`) is returned so tests can see what is held.
 */
export function fakeApp(
  overrides: Partial<Config> = {},
  extra: { keyHashes?: Uint8Array[]; budget?: InflightBudget; collections?: CollectionStore } = {},
): { app: OpenAPIHono; runner: FakeRunner; budget: InflightBudget; collections: CollectionStore } {
  const runner = new FakeRunner();
  const config = { ...loadConfig(() => undefined), ...overrides };
  const info = { encoders: [], labels: ["cello", "violin"], joint: { version: "test-model" } };
  const budget = extra.budget ?? new InflightBudget({ capacity: config.maxInflightBytes });
  // Collections live in memory unless a test brings its own store.
  const collections = extra.collections ??
    new CollectionStore({ open: () => Deno.openKv(":memory:"), maxItems: config.collectionMaxItems });
  const app = createApp({ config, pool: runner, info, log: () => {}, ...extra, budget, collections });
  return { app, runner, budget, collections };
}

export { ProblemError };
