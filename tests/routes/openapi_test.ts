import assert from "node:assert/strict";
import { fakeApp, ProblemError } from "./_fake_runner.ts";
import { type OpenApiDocument, ResponseChecker } from "./_openapi.ts";
import { fromFloat32Base64 } from "../../lib/http/float32.ts";

const post = (body: BodyInit, headers: Record<string, string> = {}) => ({ method: "POST", body, headers });

Deno.test("GET /openapi.json: every route's real answers (successes and problems) match the document", async () => {
  const { app, runner } = fakeApp({ maxBodyBytes: 100 });
  const doc = await (await app.request("/openapi.json")).json() as OpenApiDocument;
  const checker = new ResponseChecker(doc);
  const check = (method: string, path: string, res: Response) => checker.check(method, path, res);

  await check("GET", "/healthz", await app.request("/healthz"));
  const models = await app.request("/v1/models");
  const modelsTag = models.headers.get("etag")!;
  assert.match(models.headers.get("cache-control")!, /max-age/);
  await check("GET", "/v1/models", models);
  await check("GET", "/v1/models", await app.request("/v1/models", { headers: { "if-none-match": modelsTag } }));
  const labels = await app.request("/v1/labels");
  await check(
    "GET",
    "/v1/labels",
    await app.request("/v1/labels", { headers: { "if-none-match": labels.headers.get("etag")! } }),
  );
  await check("GET", "/v1/labels", labels);
  await check("GET", "/v1/labels", await app.request("/v1/labels?x=1"));

  const classified = await check("POST", "/v1/classify", await app.request("/v1/classify?top_k=1", post("abc"))) as {
    sha256: string;
  };
  await check("POST", "/v1/classify", await app.request("/v1/classify?top_k=none", post("abc")));
  await check("POST", "/v1/classify", await app.request("/v1/classify", post(new Uint8Array(101))));
  runner.fail = new ProblemError(415, "Not a supported audio or image format");
  await check("POST", "/v1/classify", await app.request("/v1/classify", post("new bytes")));
  runner.fail = undefined;

  const embedded = await check("POST", "/v1/embed", await app.request("/v1/embed?encoding=base64", post("abc"))) as {
    embedding: string;
    dim: number;
  };
  assert.deepEqual(Array.from(fromFloat32Base64(embedded.embedding)), [0.5, 0.25]);
  await check("POST", "/v1/embed", await app.request("/v1/embed?space=encoder", post("abc")));
  await check("POST", "/v1/embed", await app.request("/v1/embed?space=pixels", post("abc")));

  const result = await app.request(`/v1/results/${classified.sha256}`);
  assert.equal(result.headers.get("cache-control"), "public, max-age=31536000, immutable");
  const etag = result.headers.get("etag")!;
  await check("GET", "/v1/results/{sha256}", result);
  const again = await app.request(`/v1/results/${classified.sha256}`, { headers: { "if-none-match": etag } });
  await check("GET", "/v1/results/{sha256}", again);
  await check(
    "GET",
    "/v1/results/{sha256}",
    await app.request(`/v1/results/${classified.sha256}?op=embed&space=encoder&encoding=base64`),
  );
  await check("GET", "/v1/results/{sha256}", await app.request(`/v1/results/${"0".repeat(64)}`));
  await check("GET", "/v1/results/{sha256}", await app.request("/v1/results/not-hex"));

  const items = { items: [{ data: btoa("abc") }, { data: "%%" }] };
  const batchJson = { method: "POST", body: JSON.stringify(items), headers: { "content-type": "application/json" } };
  await check("POST", "/v1/batch", await app.request("/v1/batch?op=embed", batchJson));
  await check("POST", "/v1/batch", await app.request("/v1/batch", { ...batchJson, body: '{"items": 1}' }));

  const file = (m: string, v: number[]) => `${m}:${JSON.stringify(v)}`;
  const itemPath = "/v1/collections/{name}/items/{id}";
  const small = fakeApp();
  try {
    const c = (method: string, path: string, init: RequestInit = {}) => small.app.request(path, { method, ...init });
    const f = new FormData();
    f.append("file", new Blob([file("image", [0, 1])]));
    f.append("metadata", '{"label":"sitar"}');
    await check("PUT", itemPath, await c("PUT", "/v1/collections/p/items/a", { body: file("audio", [1, 0]) }));
    await check("PUT", itemPath, await c("PUT", "/v1/collections/p/items/b", { body: f }));
    await check("PUT", itemPath, await c("PUT", "/v1/collections/p/items/a", { body: file("audio", [1, 0]) }));
    await check("PUT", itemPath, await c("PUT", "/v1/collections/p/items/b!", { body: "x" }));
    await check("GET", itemPath, await c("GET", "/v1/collections/p/items/a"));
    await check("GET", itemPath, await c("GET", "/v1/collections/p/items/zz"));
    await check("GET", "/v1/collections/{name}/items", await c("GET", "/v1/collections/p/items?limit=1"));
    await check("GET", "/v1/collections/{name}/items", await c("GET", "/v1/collections/p/items?limit=-1"));
    const search = "/v1/collections/{name}/search";
    const vector = { body: '{"embedding":[1,0]}', headers: { "content-type": "application/json" } };
    await check("POST", search, await c("POST", "/v1/collections/p/search?modality=image", vector));
    await check("POST", search, await c("POST", "/v1/collections/p/search?top_k=2", { body: file("audio", [1, 1]) }));
    await check("POST", search, await c("POST", "/v1/collections/p/search?top_k=0", vector));
    const classify = "/v1/collections/{name}/classify";
    await check("POST", classify, await c("POST", "/v1/collections/p/classify", { body: file("audio", [0, 1]) }));
    await check("POST", classify, await c("POST", "/v1/collections/zz/classify", { body: file("audio", [0, 1]) }));
    await check("DELETE", itemPath, await c("DELETE", "/v1/collections/p/items/a"));
    await check("DELETE", itemPath, await c("DELETE", "/v1/collections/p/items/a"));
    await check("DELETE", "/v1/collections/{name}", await c("DELETE", "/v1/collections/p"));
    await check("DELETE", "/v1/collections/{name}", await c("DELETE", "/v1/collections/p"));
  } finally {
    await small.collections.close();
  }

  // Every documented operation was exercised, with at least one success and one problem.
  for (const operation of checker.operations()) {
    const statuses = [...checker.seen].filter((s) => s.startsWith(`${operation} `)).map((s) => Number(s.split(" ")[2]));
    assert.ok(statuses.some((s) => s < 300), `${operation}: no success checked`);
    if (operation !== "GET /healthz" && operation !== "GET /v1/models") {
      assert.ok(statuses.some((s) => s >= 400), `${operation}: no problem checked`);
    }
  }
});

Deno.test("createApp() answers a known path with the wrong method 405 + Allow, an unknown one 404", async (t) => {
  const { app, runner } = fakeApp();
  const cases = [
    { method: "GET", path: "/v1/classify", status: 405, allow: "POST" },
    { method: "PUT", path: "/v1/embed", status: 405, allow: "POST" },
    { method: "POST", path: "/v1/labels", status: 405, allow: "GET, HEAD" },
    { method: "DELETE", path: `/v1/results/${"a".repeat(64)}`, status: 405, allow: "GET, HEAD" },
    { method: "GET", path: "/v1/classifyx", status: 404, allow: null },
  ];
  for (const c of cases) {
    await t.step(`${c.method} ${c.path}`, async () => {
      const res = await app.request(c.path, { method: c.method });
      assert.equal(res.status, c.status);
      assert.equal(res.headers.get("allow"), c.allow);
      assert.equal(res.headers.get("content-type"), "application/problem+json");
      assert.ok(res.headers.get("x-request-id"));
      await res.body?.cancel();
    });
  }
  assert.equal(runner.jobs.length, 0);
});

Deno.test("createApp() refuses unknown query parameters with 400 naming them", async (t) => {
  const { app, runner } = fakeApp();
  const cases = [
    { path: "/v1/classify?topk=3", init: post("x"), detail: /Unknown query parameter "topk"; this route takes top_k/ },
    { path: "/v1/embed?format=npy", init: post("x"), detail: /"format"; this route takes space, encoding/ },
    { path: "/v1/models?v=2", init: {}, detail: /"v"; this route takes none/ },
    { path: "/healthz?verbose", init: {}, detail: /"verbose"/ },
  ];
  for (const c of cases) {
    await t.step(c.path, async () => {
      const res = await app.request(c.path, c.init);
      assert.equal(res.status, 400);
      assert.match((await res.json()).detail, c.detail);
    });
  }
  assert.equal(runner.jobs.length, 0);
});

Deno.test("GET /docs serves Swagger UI from this service, no CDN", async () => {
  const { app } = fakeApp();
  const page = await (await app.request("/docs")).text();
  const sources = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(sources.length >= 3);
  for (const source of sources) {
    assert.ok(source.startsWith("/"), `${source} is not served locally`);
    const asset = await app.request(source);
    assert.equal(asset.status, 200, source);
    assert.ok((await asset.arrayBuffer()).byteLength > 100, source);
  }
});

Deno.test("GET / serves the try-it page with only local assets and labelled controls", async () => {
  const { app } = fakeApp();
  const page = await (await app.request("/")).text();
  const sources = [...page.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  for (const source of sources) {
    assert.ok(source.startsWith("/"), `${source} is not served locally`);
    assert.equal((await app.request(source)).status, 200, source);
  }
  assert.match(page, /<html lang="en">/);
  // Every form control has a label; results are announced to screen readers.
  for (const id of [...page.matchAll(/<input id="([^"]+)"/g)].map((m) => m[1])) {
    assert.match(page, new RegExp(`<label[^>]*for="${id}"`), `input #${id} has no label`);
  }
  assert.match(page, /role="status" aria-live="polite"/);
  const script = await (await app.request("/app.js")).text();
  // The SVG namespace is a name, not a URL anything is fetched from.
  assert.doesNotMatch(
    script.replaceAll('"http://www.w3.org/2000/svg"', ""),
    /https?:\/\//,
    "the page script loads nothing from elsewhere",
  );
});

Deno.test("GET /joint_map.json serves the models folder's map, 404 problem+json without one", async () => {
  const { app } = fakeApp();
  const res = await app.request("/joint_map.json");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/json");
  assert.equal((await res.json()).format, "amodal-joint-map/1");
  const empty = await Deno.makeTempDir();
  try {
    const bare = fakeApp({ modelsDir: empty }).app;
    const missing = await bare.request("/joint_map.json");
    assert.equal(missing.status, 404);
    assert.equal(missing.headers.get("content-type"), "application/problem+json");
  } finally {
    await Deno.remove(empty);
  }
});
