import assert from "node:assert/strict";
import { fakeApp } from "./_fake_runner.ts";
import { InflightBudget } from "../../lib/http/inflight_budget.ts";
import { encodeWav } from "../../lib/media/encode_wav.ts";
import { estimateDecodeBytes } from "../../lib/media/decode_cost.ts";
import { Hono } from "hono";
import { memoryBudget } from "../../lib/http/memory_budget.ts";

const MB = 1_000_000;

/** A body of unknown length: the request carries no Content-Length. */
function streamed(bytes: Uint8Array, chunk = 64 * 1024): RequestInit {
  let at = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (at >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(at, at + chunk));
      at += chunk;
    },
  });
  return { method: "POST", body, duplex: "half" } as RequestInit;
}

function sized(bytes: Uint8Array<ArrayBuffer>): RequestInit {
  return { method: "POST", body: bytes, headers: { "content-length": String(bytes.length) } };
}

/** A PNG header (signature + IHDR) declaring `width` x `height`, then `pad` zero bytes. */
function pngHeader(width: number, height: number, pad = 0): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(33 + pad);
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const view = new DataView(out.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  out.set([8, 6, 0, 0, 0], 24);
  return out;
}

const wav = encodeWav(new Float32Array(16_000 * 10), 16_000); // 10 s mono 16 kHz, 320 kB

Deno.test("memoryBudget() holds 2 x body + the announced decode size while the job runs, then gives it back", async (t) => {
  const cases = [
    {
      name: "WAV with Content-Length: 10 s x 16 kHz x 4, twice (float + 16 kHz copy)",
      body: wav,
      init: sized(wav),
      decode: 10 * 16_000 * 4 * 2,
    },
    {
      name: "PNG declaring 4000x3000: no shrink-on-load, 48 MB of RGBA",
      body: pngHeader(4000, 3000, 1000),
      init: sized(pngHeader(4000, 3000, 1000)),
      decode: 1033 + 4000 * 3000 * 4,
    },
    {
      name: "random bytes: no decoder takes them (415 before decoding)",
      body: crypto.getRandomValues(new Uint8Array(50_000)),
      decode: 0,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const { app, runner, budget } = fakeApp();
      let during = -1;
      runner.onRun = () => {
        during = budget.used;
      };
      const res = await app.request("/v1/classify", c.init ?? sized(c.body));
      assert.equal(res.status, 200);
      assert.equal(during, 2 * c.body.length + c.decode);
      assert.equal(estimateDecodeBytes(c.body, { totalBytes: c.body.length }), c.decode);
      assert.equal(budget.used, 0);
      assert.deepEqual((runner.jobs[0]!.bytes as Uint8Array).length, c.body.length, "the route gets the whole body");
    });
  }
});

Deno.test("memoryBudget() refusals: 413 or 503 + Retry-After as problem+json, nothing queued, nothing held", async (t) => {
  const big = new Uint8Array(3 * MB);
  const cases = [
    { name: "Content-Length over the body limit", limits: { maxBodyBytes: MB }, init: sized(big), status: 413 },
    { name: "streamed body crossing the body limit", limits: { maxBodyBytes: MB }, init: streamed(big), status: 413 },
    {
      name: "Content-Length that does not fit beside a request in flight",
      limits: { maxInflightBytes: 5 * MB },
      init: sized(big),
      status: 503,
    },
    {
      name: "streamed body crossing the budget beside a request in flight",
      limits: { maxInflightBytes: 5 * MB },
      init: streamed(big),
      status: 503,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const config = { maxInflightBytes: 128 * MB, ...c.limits };
      const budget = new InflightBudget({ capacity: config.maxInflightBytes, maxWaitMs: 30 });
      const { app, runner } = fakeApp(config, { budget });
      // Another request in flight holds 2 x 1 MB while this one arrives.
      let release!: () => void;
      const held = new Promise<void>((resolve) => release = resolve);
      runner.onRun = () => held;
      const first = app.request("/v1/classify", sized(new Uint8Array(MB)));
      while (runner.jobs.length === 0) await new Promise((r) => setTimeout(r, 1));
      runner.onRun = undefined;

      const res = await app.request("/v1/classify", c.init);
      assert.equal(res.status, c.status);
      assert.equal(res.headers.get("content-type"), "application/problem+json");
      const problem = await res.json();
      assert.equal(problem.status, c.status);
      if (c.status === 503) assert.equal(res.headers.get("retry-after"), "1");
      else assert.equal(problem.limit, MB);
      assert.equal(runner.jobs.length, 1, "the refused request never reached the pool");
      assert.equal(budget.used, 2 * MB);

      release();
      assert.equal((await first).status, 200, "the request in flight is not lost");
      assert.equal(budget.used, 0);
    });
  }
});

Deno.test("memoryBudget() lets a request wait for room and run once the one in flight is done", async () => {
  const budget = new InflightBudget({ capacity: 5 * MB, maxWaitMs: 5_000 });
  const { app, runner } = fakeApp({}, { budget });
  let release!: () => void;
  runner.onRun = () => new Promise<void>((resolve) => release = resolve);
  const first = app.request("/v1/classify", sized(new Uint8Array(2 * MB)));
  while (runner.jobs.length === 0) await new Promise((r) => setTimeout(r, 1));
  runner.onRun = undefined;
  const second = app.request("/v1/embed", sized(new Uint8Array(2 * MB)));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(budget.waiting, 1);
  assert.equal(runner.jobs.length, 1);
  release();
  assert.deepEqual([(await first).status, (await second).status], [200, 200]);
  assert.equal(runner.jobs.length, 2);
  assert.equal(budget.used, 0);
});

Deno.test("memoryBudget() gives everything back when the job fails or the client goes away", async (t) => {
  await t.step("job fails", async () => {
    const { app, runner, budget } = fakeApp();
    runner.fail = new Error("worker died");
    const consoleError = console.error;
    console.error = () => {};
    try {
      assert.equal((await app.request("/v1/classify", sized(wav))).status, 500);
    } finally {
      console.error = consoleError;
    }
    assert.equal(budget.used, 0);
  });
  await t.step("client aborts while waiting for room", async () => {
    const budget = new InflightBudget({ capacity: MB, maxWaitMs: 5_000 });
    const { app, runner } = fakeApp({}, { budget });
    let release!: () => void;
    runner.onRun = () => new Promise<void>((resolve) => release = resolve);
    const first = app.request("/v1/classify", sized(new Uint8Array(MB / 2)));
    while (runner.jobs.length === 0) await new Promise((r) => setTimeout(r, 1));
    const controller = new AbortController();
    const second = app.request(
      new Request("http://localhost/v1/classify", { ...sized(new Uint8Array(MB / 2)), signal: controller.signal }),
    );
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(budget.waiting, 1);
    controller.abort();
    assert.equal((await second).status, 400);
    assert.equal(budget.waiting, 0);
    release();
    await first;
    assert.equal(budget.used, 0);
  });
  await t.step("client aborts while the body streams in", async () => {
    const { app, budget } = fakeApp();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new Uint8Array(300_000));
        setTimeout(() => controller.error(new Error("connection reset")), 5);
      },
    });
    const res = await app.request("/v1/classify", { method: "POST", body, duplex: "half" } as RequestInit);
    assert.equal(res.status, 400);
    assert.equal(budget.used, 0);
  });
});

Deno.test("memoryBudget() tells onRelease what a request held once it was answered", async () => {
  const budget = new InflightBudget({ capacity: 10 * MB });
  const released: number[] = [];
  const app = new Hono();
  app.use(memoryBudget({ budget, maxBodyBytes: 5 * MB, onRelease: (bytes) => released.push(bytes) }));
  app.post("/", async (c) => {
    const bytes = new Uint8Array(await c.req.raw.arrayBuffer());
    assert.deepEqual(bytes, wav, "the buffered body itself");
    await assert.rejects(c.req.raw.arrayBuffer(), TypeError, "a body is read once");
    assert.deepEqual(released, [], "nothing released while the route runs");
    assert.equal(budget.used, 2 * wav.length);
    return c.json({ length: bytes.length });
  });
  const res = await app.request("/", sized(wav));
  assert.deepEqual(await res.json(), { length: wav.length });
  assert.deepEqual(released, [2 * wav.length]);
  assert.equal(budget.used, 0);
});

Deno.test("POST /v1/batch: each item reserves its decode size while it runs; 503 for that item only when no room comes", async (t) => {
  // Two items whose headers announce 1000x1000 pixels (4 MB of RGBA each), as JSON base64 items.
  const item = pngHeader(1000, 1000, 100);
  const items = [item, pngHeader(1000, 1001, 100)].map((bytes) => ({ data: btoa(String.fromCharCode(...bytes)) }));
  const batch = (): RequestInit => {
    const body = new TextEncoder().encode(JSON.stringify({ items }));
    return {
      method: "POST",
      body,
      headers: { "content-type": "application/json", "content-length": `${body.length}` },
    };
  };

  await t.step("alone: every item is granted, even beyond the capacity, and everything is given back", async () => {
    const budget = new InflightBudget({ capacity: 2 * MB, maxWaitMs: 30 });
    const { app, runner } = fakeApp({}, { budget });
    const seen: number[] = [];
    runner.onRun = () => {
      seen.push(budget.used);
    };
    const res = await app.request("/v1/batch", batch());
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(body.items.map((i: { status: number }) => i.status), [200, 200]);
    assert.ok(seen.every((used) => used >= 4 * MB), `each item ran holding its decode size: ${seen}`);
    assert.equal(budget.used, 0);
  });

  await t.step(
    "beside a request in flight: the items wait, then answer 503 + problem, the batch itself 200",
    async () => {
      const budget = new InflightBudget({ capacity: 2 * MB, maxWaitMs: 30 });
      const { app, runner } = fakeApp({}, { budget });
      let release!: () => void;
      runner.onRun = () => new Promise<void>((resolve) => release = resolve);
      const first = app.request("/v1/classify", sized(new Uint8Array(MB / 4)));
      while (runner.jobs.length === 0) await new Promise((r) => setTimeout(r, 1));
      runner.onRun = undefined;
      const res = await app.request("/v1/batch", batch());
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.deepEqual(body.items.map((i: { status: number }) => i.status), [503, 503]);
      assert.match(body.items[0].problem.detail, /short of memory/);
      assert.equal(runner.jobs.length, 1, "no item reached the pool");
      release();
      assert.equal((await first).status, 200);
      assert.equal(budget.used, 0);
    },
  );
});
