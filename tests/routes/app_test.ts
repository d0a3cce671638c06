import assert from "node:assert/strict";
import { fakeApp, ProblemError } from "./_fake_runner.ts";

const post = (body: BodyInit | null, headers: Record<string, string> = {}) => ({ method: "POST", body, headers });

Deno.test("createApp() routes: inference answers JSON with Server-Timing, metadata routes answer", async () => {
  const { app, runner } = fakeApp();
  const res = await app.request("/v1/classify?top_k=1", post(new Uint8Array([1, 2, 3])));
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.label, "violin");
  assert.equal(body.scores.length, 1);
  assert.equal(body.timings, undefined, "timings travel in the header, not the body");
  assert.equal(res.headers.get("server-timing"), "decode;dur=1.00, encoder;dur=2.00");
  assert.deepEqual(runner.jobs[0]!.options, {}, "every score is computed and cached; top_k trims the answer");

  const embed = await app.request("/v1/embed?space=encoder", post(new Uint8Array([1])));
  assert.equal((await embed.json()).space, "encoder");
  assert.equal((await (await app.request("/v1/labels")).json()).labels.length, 2);
  assert.equal((await (await app.request("/healthz")).json()).status, "ok");
});

Deno.test("createApp() answers bad requests with problem+json before any job runs", async (t) => {
  const cases: { name: string; path: string; init: RequestInit; status: number; detail: RegExp }[] = [
    { name: "unknown route", path: "/v1/nothing", init: {}, status: 404, detail: /No route for GET \/v1\/nothing/ },
    { name: "empty body", path: "/v1/classify", init: post(null), status: 400, detail: /body is empty/ },
    { name: "top_k 0", path: "/v1/classify?top_k=0", init: post("x"), status: 400, detail: /top_k/ },
    { name: "top_k text", path: "/v1/classify?top_k=all", init: post("x"), status: 400, detail: /top_k/ },
    { name: "unknown space", path: "/v1/embed?space=pixels", init: post("x"), status: 400, detail: /space/ },
    {
      name: "two multipart files",
      path: "/v1/embed",
      init: (() => {
        const form = new FormData();
        form.append("file", new Blob(["a"]));
        form.append("file", new Blob(["b"]));
        return post(form);
      })(),
      status: 400,
      detail: /exactly one multipart field "file", got 2/,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const { app, runner } = fakeApp();
      const res = await app.request(c.path, c.init);
      assert.equal(res.status, c.status);
      assert.equal(res.headers.get("content-type"), "application/problem+json");
      assert.match((await res.json()).detail, c.detail);
      assert.equal(runner.jobs.length, 0);
    });
  }
});

Deno.test("createApp() enforces the body limit with 413", async () => {
  const { app, runner } = fakeApp({ maxBodyBytes: 10 });
  const res = await app.request("/v1/classify", post(new Uint8Array(11), { "content-length": "11" }));
  assert.equal(res.status, 413);
  assert.equal((await res.json()).limit, 10);
  assert.equal(runner.jobs.length, 0);
});

Deno.test("createApp() passes a job's 4xx through and hides a 5xx's cause", async () => {
  const { app, runner } = fakeApp();
  runner.fail = new ProblemError(415, "Not a supported audio or image format");
  const refused = await app.request("/v1/classify", post("x"));
  assert.equal(refused.status, 415);
  assert.match((await refused.json()).detail, /Not a supported/);

  runner.fail = new Error("/secret/path exploded");
  const consoleError = console.error;
  console.error = () => {};
  try {
    const failed = await app.request("/v1/classify", post("x"));
    assert.equal(failed.status, 500);
    const text = await failed.text();
    assert.doesNotMatch(text, /secret/);
  } finally {
    console.error = consoleError;
  }
});

Deno.test("createApp() with API keys: 401 without or with a wrong key, 200 with a right one", async () => {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode("s3cret")));
  const { app } = fakeApp({}, { keyHashes: [digest] });
  const none = await app.request("/v1/classify", post("x"));
  assert.equal(none.status, 401);
  assert.match(none.headers.get("www-authenticate") ?? "", /Bearer/);
  assert.equal((await app.request("/v1/classify", post("x", { authorization: "Bearer nope" }))).status, 401);
  assert.equal((await app.request("/v1/classify", post("x", { authorization: "Bearer s3cret" }))).status, 200);
  assert.equal((await app.request("/healthz")).status, 200, "health stays open");
});

Deno.test("createApp() rate limit: the request past the burst gets 429 with Retry-After", async () => {
  const { app } = fakeApp({ rateLimitPerSecond: 1, rateLimitBurst: 2 });
  const statuses = [];
  for (let i = 0; i < 2; i++) statuses.push((await app.request("/v1/labels")).status);
  assert.deepEqual(statuses, [200, 200]);
  const limited = await app.request("/v1/labels");
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get("retry-after")) >= 1);
});

Deno.test("createApp() CORS: configured origins get the headers, others do not", async () => {
  const { app } = fakeApp({ corsOrigins: ["https://example.org"] });
  const ok = await app.request("/v1/labels", { headers: { origin: "https://example.org" } });
  assert.equal(ok.headers.get("access-control-allow-origin"), "https://example.org");
  const other = await app.request("/v1/labels", { headers: { origin: "https://evil.example" } });
  assert.equal(other.headers.get("access-control-allow-origin"), null);
});
