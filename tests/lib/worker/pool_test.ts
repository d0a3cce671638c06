import assert from "node:assert/strict";
import { WorkerPool } from "../../../lib/worker/pool.ts";
import { ProblemError } from "../../../lib/errors.ts";
import { loadConfig } from "../../../lib/config.ts";

const ECHO = new URL("./_echo_worker.ts", import.meta.url);
const init = {
  type: "init",
  config: loadConfig(() => undefined),
  encoders: {} as never,
  joint: false,
  warmup: [],
} as const;
const job = (mode: number, length = 4) => {
  const bytes = new Uint8Array(length);
  bytes[0] = mode;
  return { op: "embed", bytes, options: { space: "encoder" } } as const;
};

async function withPool(
  options: { size?: number; queueSize?: number; timeoutMs?: number },
  fn: (pool: WorkerPool) => Promise<void>,
) {
  const pool = new WorkerPool({ workerUrl: ECHO, init, ...options });
  await pool.ready();
  try {
    await fn(pool);
  } finally {
    pool.close();
  }
}

Deno.test("WorkerPool.run() returns the worker's typed result and transfers the bytes", async () => {
  await withPool({}, async (pool) => {
    const request = job(0, 7);
    const result = await pool.run(request);
    assert.deepEqual(result.embedding, [7]);
    assert.equal(request.bytes.byteLength, 0, "the buffer moved to the worker");
  });
});

Deno.test("WorkerPool.run() passes a worker's 4xx through as a ProblemError", async () => {
  await withPool({}, async (pool) => {
    const error = await pool.run(job(4)).catch((e) => e);
    assert.ok(error instanceof ProblemError);
    assert.equal(error.status, 422);
  });
});

Deno.test("WorkerPool.run() refuses with 503 and Retry-After when the queue is full", async () => {
  await withPool({ size: 1, queueSize: 1 }, async (pool) => {
    const running = pool.run(job(1));
    const queued = pool.run(job(1));
    const refused = await pool.run(job(1)).catch((e) => e);
    assert.ok(refused instanceof ProblemError);
    assert.equal(refused.status, 503);
    assert.equal(refused.headers?.["retry-after"], "1");
    await Promise.all([running, queued]);
    assert.equal(pool.stats().queued, 0);
  });
});

Deno.test("WorkerPool replaces a crashed worker (500) and a hung one (504); later jobs succeed", async () => {
  await withPool({ timeoutMs: 1000 }, async (pool) => {
    const crashed = await pool.run(job(2)).catch((e) => e);
    assert.equal(crashed.status, 500);
    const hung = await pool.run(job(3)).catch((e) => e);
    assert.equal(hung.status, 504);
    assert.equal(pool.stats().restarts, 2);
    await pool.ready();
    assert.deepEqual((await pool.run(job(0, 3))).embedding, [3]);
  });
});

Deno.test("WorkerPool.close() fails queued and running jobs with 503 and refuses new ones", async () => {
  const pool = new WorkerPool({ workerUrl: ECHO, init, size: 1 });
  await pool.ready();
  const running = pool.run(job(1)).catch((e) => e);
  const queued = pool.run(job(1)).catch((e) => e);
  pool.close();
  assert.equal((await running).status, 503);
  assert.equal((await queued).status, 503);
  assert.equal((await pool.run(job(0)).catch((e) => e)).status, 503);
});
