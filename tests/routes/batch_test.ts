import assert from "node:assert/strict";
import { fakeApp, ProblemError } from "./_fake_runner.ts";
import { type OpenApiDocument, ResponseChecker } from "./_openapi.ts";

const json = (body: unknown) => ({
  method: "POST",
  body: JSON.stringify(body),
  headers: { "content-type": "application/json" },
});
const b64 = (s: string) => btoa(s);

async function checked(app: ReturnType<typeof fakeApp>["app"], path: string, init: RequestInit) {
  const checker = new ResponseChecker(await (await app.request("/openapi.json")).json() as OpenApiDocument);
  return await checker.check("POST", "/v1/batch", await app.request(path, init)) as Record<string, unknown>;
}

Deno.test("POST /v1/batch answers each item in order with its own status", async () => {
  const { app, runner } = fakeApp();
  const body = await checked(
    app,
    "/v1/batch?top_k=1",
    json({
      items: [
        { name: "a.jpg", data: b64("first") },
        { name: "broken", data: "not base64!" },
        { data: "" },
        { name: "a-again.jpg", data: b64("first") },
      ],
    }),
  );
  const items = body.items as {
    index: number;
    name?: string;
    status: number;
    cached?: boolean;
    result?: { scores: unknown[] };
    problem?: { detail: string };
  }[];
  assert.deepEqual(items.map((i) => i.status), [200, 400, 400, 200]);
  assert.deepEqual(items.map((i) => i.index), [0, 1, 2, 3]);
  assert.equal(items[0]!.name, "a.jpg");
  assert.equal(items[0]!.result!.scores.length, 1);
  assert.match(items[1]!.problem!.detail, /Item 1: data is not valid base64/);
  assert.match(items[2]!.problem!.detail, /Item 2 is empty/);
  assert.equal(items[3]!.cached, true, "the same bytes twice: one inference");
  assert.equal(runner.jobs.length, 1);
});

Deno.test("POST /v1/batch takes multipart parts and embeds with ?op=embed", async () => {
  const { app } = fakeApp();
  const form = new FormData();
  form.append("file", new File(["one"], "one.wav"));
  form.append("file", new File(["two"], "two.png"));
  const body = await checked(app, "/v1/batch?op=embed&encoding=base64", { method: "POST", body: form });
  const items = body.items as { name: string; status: number; result: { encoding: string } }[];
  assert.deepEqual(items.map((i) => [i.name, i.status, i.result.encoding]), [
    ["one.wav", 200, "base64"],
    ["two.png", 200, "base64"],
  ]);
});

Deno.test("POST /v1/batch: one item's failure does not fail the others", async () => {
  const { app, runner } = fakeApp();
  const run = runner.run.bind(runner);
  runner.run = (job) => {
    if (new TextDecoder().decode(job.bytes) === "bad") return Promise.reject(new ProblemError(415, "Not a supported"));
    return run(job);
  };
  const body = await checked(app, "/v1/batch", json({ items: [{ data: b64("bad") }, { data: b64("good") }] }));
  assert.deepEqual((body.items as { status: number }[]).map((i) => i.status), [415, 200]);
});

Deno.test("POST /v1/batch refuses whole requests that are malformed or over the limits", async (t) => {
  const cases: { name: string; path?: string; init: RequestInit; status: number; detail: RegExp }[] = [
    {
      name: "1,000 empty items",
      init: json({ items: Array.from({ length: 1000 }, () => ({ data: "" })) }),
      status: 413,
      detail: /1000 items; the limit is 4/,
    },
    { name: "no items", init: json({ items: [] }), status: 400, detail: /no items/ },
    { name: "items not an array", init: json({ items: "x" }), status: 400, detail: /body\.items/ },
    {
      name: "an item without data",
      init: json({ items: [{ name: "x" }] }),
      status: 400,
      detail: /body\.items\.0\.data/,
    },
    { name: "broken JSON", init: { ...json({}), body: "{" }, status: 400, detail: /JSON/i },
    {
      name: "raw bytes",
      init: { method: "POST", body: "x", headers: { "content-type": "audio/wav" } },
      status: 415,
      detail: /./,
    },
    {
      name: "an unknown op",
      path: "/v1/batch?op=train",
      init: json({ items: [] }),
      status: 400,
      detail: /Unknown op "train"/,
    },
    {
      name: "over the body limit",
      init: json({ items: [{ data: "A".repeat(200_000) }] }),
      status: 413,
      detail: /limit/,
    },
  ];
  for (const c of cases) {
    await t.step(c.name, async () => {
      const { app, runner } = fakeApp({ batchMaxItems: 4, maxBodyBytes: 100_000 });
      const res = await app.request(c.path ?? "/v1/batch", c.init);
      assert.equal(res.status, c.status);
      assert.equal(res.headers.get("content-type"), "application/problem+json");
      assert.ok(res.headers.get("x-request-id"));
      assert.match((await res.json()).detail, c.detail);
      assert.equal(runner.jobs.length, 0);
    });
  }
});
