import assert from "node:assert/strict";
import { fakeApp } from "./_fake_runner.ts";
import { CollectionStore } from "../../lib/collections/store.ts";

/** A fake file: the fake runner embeds `audio:[...]` / `image:[...]` as that vector. */
const file = (modality: "audio" | "image", vector: number[]) => `${modality}:${JSON.stringify(vector)}`;
const put = (body: BodyInit, headers: Record<string, string> = {}) => ({ method: "PUT", body, headers });
const post = (body: BodyInit, headers: Record<string, string> = {}) => ({ method: "POST", body, headers });
const form = (fields: Record<string, string>) => {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, k === "file" ? new Blob([v]) : v);
  return f;
};
const json = (value: unknown) => post(JSON.stringify(value), { "content-type": "application/json" });

Deno.test("collections: put both modalities, get, re-put, list in pages, search, delete, drop", async () => {
  const { app, runner, collections } = fakeApp();
  try {
    const a = await app.request("/v1/collections/c1/items/snd-1", put(file("audio", [1, 0, 0])));
    assert.equal(a.status, 201);
    const created = await a.json();
    assert.equal(created.outcome, "created");
    assert.equal(created.item.modality, "audio");
    assert.equal(created.item.prediction.label, "violin");
    assert.equal(created.item.model, "test-model");
    assert.equal(created.item.stale, false);
    assert.deepEqual(created.collection, { name: "c1", items: 1, dim: 3, model: "test-model", staleItems: 0 });

    const meta = JSON.stringify({ label: "sitar", photographer: "me" });
    const b = await app.request(
      "/v1/collections/c1/items/img-1",
      put(form({ file: file("image", [0.9, 0.1, 0]), metadata: meta })),
    );
    assert.equal(b.status, 201);
    assert.deepEqual((await b.json()).item.metadata, { label: "sitar", photographer: "me" });
    await app.request("/v1/collections/c1/items/img-2", put(file("image", [0, 1, 0])));

    // The same content again: nothing recomputed, nothing changed.
    const jobs = runner.jobs.length;
    const again = await app.request("/v1/collections/c1/items/snd-1", put(file("audio", [1, 0, 0])));
    assert.equal(again.status, 200);
    assert.equal((await again.json()).outcome, "unchanged");
    assert.equal(runner.jobs.length, jobs);
    // New content under the same id replaces it.
    const replaced = await app.request("/v1/collections/c1/items/snd-1", put(file("audio", [1, 0.1, 0])));
    assert.equal((await replaced.json()).outcome, "replaced");

    const got = await (await app.request("/v1/collections/c1/items/img-1")).json();
    assert.equal(got.item.embedding.length, 3);
    assert.ok(Math.abs(got.item.embedding[0] - 0.9) < 0.01, "int8 storage keeps values within 1 %");

    const page1 = await (await app.request("/v1/collections/c1/items?limit=2")).json();
    assert.deepEqual(page1.items.map((i: { id: string }) => i.id), ["img-1", "img-2"]);
    assert.equal(page1.collection.items, 3);
    const page2 = await (await app.request(`/v1/collections/c1/items?limit=2&cursor=${page1.cursor}`)).json();
    assert.deepEqual(page2.items.map((i: { id: string }) => i.id), ["snd-1"]);
    assert.equal(page2.cursor, null);

    // A sound's vector finds the nearest picture first; the filter keeps only pictures.
    const byVector = await app.request(
      "/v1/collections/c1/search?top_k=2&modality=image",
      json({ embedding: [1, 0, 0] }),
    );
    const found = await byVector.json();
    assert.deepEqual(found.results.map((r: { id: string }) => r.id), ["img-1", "img-2"]);
    assert.ok(found.results[0].score > 0.99 * 0.9);
    assert.equal(found.results[0].metadata.label, "sitar");
    const byFile = await (await app.request("/v1/collections/c1/search?top_k=1", post(file("audio", [0, 1, 0]))))
      .json();
    assert.deepEqual(byFile.results.map((r: { id: string }) => r.id), ["img-2"]);
    assert.equal(byFile.query.modality, "audio");

    const taught = await (await app.request("/v1/collections/c1/classify", post(file("audio", [0.8, 0.2, 0])))).json();
    assert.equal(taught.taught.label, "sitar");
    assert.equal(taught.taught.scores[0].examples, 1);
    assert.equal(taught.builtIn.label, "violin");
    const far = await (await app.request("/v1/collections/c1/classify", post(file("audio", [0, 0, 1])))).json();
    assert.equal(far.taught.label, null, "below the threshold: none");

    assert.equal((await app.request("/v1/collections/c1/items/img-2", { method: "DELETE" })).status, 200);
    assert.equal((await app.request("/v1/collections/c1/items/img-2")).status, 404);
    const after = await (await app.request("/v1/collections/c1/search", json({ embedding: [0, 1, 0] }))).json();
    assert.ok(!after.results.some((r: { id: string }) => r.id === "img-2"));
    assert.equal(after.collection.items, 2);

    const dropped = await app.request("/v1/collections/c1", { method: "DELETE" });
    assert.equal((await dropped.json()).deleted, 2);
    assert.equal((await app.request("/v1/collections/c1/items")).status, 404);
    assert.equal((await app.request("/v1/collections/c1/items/snd-1")).status, 404);
    // Re-created empty, with none of the old items.
    await app.request("/v1/collections/c1/items/x", put(file("image", [0, 0, 1])));
    assert.equal((await (await app.request("/v1/collections/c1/items")).json()).items.length, 1);
  } finally {
    await collections.close();
  }
});

Deno.test("collections: items of another model version are counted stale in every answer", async () => {
  const { app, collections } = fakeApp();
  try {
    await collections.put("_", "old", {
      id: "a",
      modality: "image",
      prediction: null,
      predictionScore: null,
      sha256: "0".repeat(64),
      model: "older-model",
      metadata: null,
      vector: [1, 0],
    });
    await app.request("/v1/collections/old/items/b", put(file("audio", [0, 1])));
    const list = await (await app.request("/v1/collections/old/items")).json();
    assert.equal(list.collection.staleItems, 1);
    assert.deepEqual(list.items.map((i: { stale: boolean }) => i.stale), [true, false]);
  } finally {
    await collections.close();
  }
});

Deno.test("collections: every bad input is a 4xx problem naming what was wrong", async (t) => {
  const { app, collections } = fakeApp({ collectionMaxItems: 2 });
  try {
    await app.request("/v1/collections/c/items/a", put(file("audio", [1, 0])));
    const cases: { name: string; path: string; init?: RequestInit; status: number; detail: RegExp }[] = [
      {
        name: "name too long",
        path: `/v1/collections/${"n".repeat(65)}/items`,
        status: 400,
        detail: /collection name/,
      },
      { name: "name with a dot first", path: "/v1/collections/.x/items", status: 400, detail: /collection name/ },
      { name: "id with a space", path: "/v1/collections/c/items/a%20b", status: 400, detail: /item id/ },
      {
        name: "id too long",
        path: `/v1/collections/c/items/${"i".repeat(201)}`,
        init: put(file("audio", [1, 0])),
        status: 400,
        detail: /item id/,
      },
      {
        name: "metadata over 4 KB",
        path: "/v1/collections/c/items/m",
        init: put(form({ file: file("audio", [1, 0]), metadata: JSON.stringify({ x: "y".repeat(4100) }) })),
        status: 400,
        detail: /metadata is \d+ bytes; the limit is 4096/,
      },
      {
        name: "metadata not JSON",
        path: "/v1/collections/c/items/m",
        init: put(form({ file: file("audio", [1, 0]), metadata: "{label: sitar}" })),
        status: 400,
        detail: /metadata is not JSON/,
      },
      {
        name: "metadata an array",
        path: "/v1/collections/c/items/m",
        init: put(form({ file: file("audio", [1, 0]), metadata: "[1]" })),
        status: 400,
        detail: /JSON object, got an array/,
      },
      {
        name: "label not a string",
        path: "/v1/collections/c/items/m",
        init: put(form({ file: file("audio", [1, 0]), metadata: '{"label": 3}' })),
        status: 400,
        detail: /metadata.label/,
      },
      {
        name: "unknown multipart field",
        path: "/v1/collections/c/items/m",
        init: put(form({ file: file("audio", [1, 0]), meta: "{}" })),
        status: 400,
        detail: /Unknown multipart field "meta"/,
      },
      { name: "empty body", path: "/v1/collections/c/items/m", init: put(""), status: 400, detail: /empty/ },
      {
        name: "embedding of the wrong length",
        path: "/v1/collections/c/search",
        init: json({ embedding: [1, 0, 0] }),
        status: 400,
        detail: /3 values; collection c holds 2-d/,
      },
      {
        name: "embedding with NaN",
        path: "/v1/collections/c/search",
        init: json({ embedding: [1, "NaN"] }),
        status: 400,
        detail: /embedding\[1\] is "NaN"/,
      },
      {
        name: "embedding with null (NaN in JSON.stringify)",
        path: "/v1/collections/c/search",
        init: json({ embedding: [NaN, 1] }),
        status: 400,
        detail: /embedding\[0\] is null/,
      },
      {
        name: "not JSON",
        path: "/v1/collections/c/search",
        init: post("{", { "content-type": "application/json" }),
        status: 400,
        detail: /not JSON/,
      },
      {
        name: "all zeros",
        path: "/v1/collections/c/search",
        init: json({ embedding: [0, 0] }),
        status: 400,
        detail: /zeros/,
      },
      {
        name: "top_k 0",
        path: "/v1/collections/c/search?top_k=0",
        init: json({ embedding: [1, 0] }),
        status: 400,
        detail: /top_k must be an integer 1-1000, got 0/,
      },
      {
        name: "top_k 1001",
        path: "/v1/collections/c/search?top_k=1001",
        init: json({ embedding: [1, 0] }),
        status: 400,
        detail: /top_k must be an integer 1-1000, got 1001/,
      },
      {
        name: "modality video",
        path: "/v1/collections/c/search?modality=video",
        init: json({ embedding: [1, 0] }),
        status: 400,
        detail: /Unknown modality "video"/,
      },
      {
        name: "top_k in the JSON body",
        path: "/v1/collections/c/search",
        init: json({ embedding: [1, 0], top_k: 3 }),
        status: 400,
        detail: /query parameters/,
      },
      { name: "limit 0", path: "/v1/collections/c/items?limit=0", status: 400, detail: /limit must be/ },
      { name: "bad cursor", path: "/v1/collections/c/items?cursor=%%%", status: 400, detail: /Invalid cursor/ },
      {
        name: "unknown collection",
        path: "/v1/collections/nope/search",
        init: json({ embedding: [1, 0] }),
        status: 404,
        detail: /No collection nope/,
      },
      { name: "unknown item", path: "/v1/collections/c/items/zz", status: 404, detail: /No item zz/ },
    ];
    for (const c of cases) {
      await t.step(c.name, async () => {
        const res = await app.request(c.path, c.init);
        const body = await res.json();
        assert.equal(res.status, c.status, body.detail);
        assert.equal(res.headers.get("content-type"), "application/problem+json");
        assert.match(body.detail, c.detail);
      });
    }
    await t.step("a full collection: 409, nothing stored is lost", async () => {
      assert.equal((await app.request("/v1/collections/c/items/b", put(file("audio", [0, 1])))).status, 201);
      const res = await app.request("/v1/collections/c/items/c", put(file("audio", [1, 1])));
      assert.equal(res.status, 409);
      assert.match((await res.json()).detail, /full: it holds 2 items, the limit \(AMODAL_COLLECTION_MAX_ITEMS\) is 2/);
      // Replacing an item of a full collection is fine.
      assert.equal((await app.request("/v1/collections/c/items/b", put(file("audio", [0.5, 1])))).status, 200);
      assert.equal((await (await app.request("/v1/collections/c/items")).json()).items.length, 2);
    });
    await t.step("a vector of another length than the collection's: 409", async () => {
      const res = await app.request("/v1/collections/c/items/b", put(file("audio", [0, 1, 0])));
      assert.equal(res.status, 409);
      assert.match((await res.json()).detail, /2-d vectors; this one has 3/);
    });
  } finally {
    await collections.close();
  }
});

Deno.test("collections: a store that cannot be opened answers 503 with Retry-After, then recovers", async () => {
  let fail = true;
  const store = new CollectionStore({
    open: () => fail ? Promise.reject(new Error("disk on fire")) : Deno.openKv(":memory:"),
    maxItems: 10,
  });
  const { app } = fakeApp({}, { collections: store });
  try {
    for (
      const [path, init] of [["/v1/collections/c/items/a", put(file("audio", [1, 0]))], [
        "/v1/collections/c/items",
        {},
      ]] as const
    ) {
      const res = await app.request(path, init);
      assert.equal(res.status, 503);
      assert.equal(res.headers.get("retry-after"), "2");
      assert.match((await res.json()).detail, /collection store is unavailable: it could not be opened/);
    }
    fail = false;
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal((await app.request("/v1/collections/c/items/a", put(file("audio", [1, 0])))).status, 201);
  } finally {
    await store.close();
  }
});

Deno.test("collections: a store closed under the service answers 503, never 500", async () => {
  const { app, collections } = fakeApp();
  await app.request("/v1/collections/c/items/a", put(file("audio", [1, 0])));
  const kv = await collections.kv();
  kv.close();
  for (
    const [path, init] of [["/v1/collections/c/items/b", put(file("audio", [0, 1]))], [
      "/v1/collections/c/items/a",
      {},
    ]] as const
  ) {
    const res = await app.request(path, init);
    assert.equal(res.status, 503, await res.clone().text());
    assert.match((await res.json()).detail, /collection store is unavailable/);
  }
});

Deno.test("collections: with API keys each key sees only its own collections", async () => {
  const digest = async (key: string) =>
    new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(key)));
  const { app, collections } = fakeApp({}, { keyHashes: [await digest("alice"), await digest("bob")] });
  const as = (key: string, init: RequestInit = {}) => ({
    ...init,
    headers: { ...(init.headers as Record<string, string> ?? {}), authorization: `Bearer ${key}` },
  });
  try {
    assert.equal(
      (await app.request("/v1/collections/shared/items/a", as("alice", put(file("image", [1, 0]))))).status,
      201,
    );
    assert.equal((await app.request("/v1/collections/shared/items/a", as("bob"))).status, 404);
    assert.equal((await app.request("/v1/collections/shared/items", as("bob"))).status, 404);
    assert.equal(
      (await app.request("/v1/collections/shared/search", as("bob", json({ embedding: [1, 0] })))).status,
      404,
    );
    assert.equal((await app.request("/v1/collections/shared/items/a", as("bob", { method: "DELETE" }))).status, 404);
    assert.equal((await app.request("/v1/collections/shared", as("bob", { method: "DELETE" }))).status, 404);
    // Bob's own collection of the same name is separate.
    await app.request("/v1/collections/shared/items/b", as("bob", put(file("image", [0, 1]))));
    const alice = await (await app.request("/v1/collections/shared/search", as("alice", json({ embedding: [0, 1] }))))
      .json();
    assert.deepEqual(alice.results.map((r: { id: string }) => r.id), ["a"]);
    assert.equal((await app.request("/v1/collections/shared/items/a", as("alice"))).status, 200);
    assert.equal((await app.request("/v1/collections/shared/items/a")).status, 401);
  } finally {
    await collections.close();
  }
});

Deno.test("CollectionStore: concurrent writers to one collection lose no item and no count", async () => {
  const path = await Deno.makeTempFile({ suffix: ".sqlite3" });
  const a = new CollectionStore({ open: () => Deno.openKv(path), maxItems: 1000 });
  const b = new CollectionStore({ open: () => Deno.openKv(path), maxItems: 1000 });
  try {
    const item = (id: string, v: number[]) => ({
      id,
      modality: "audio" as const,
      prediction: null,
      predictionScore: null,
      sha256: "1".repeat(64),
      model: "m",
      metadata: null,
      vector: v,
    });
    await a.index("_", "c"); // a holds an index; b's writes reach it through the log
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).put("_", "c", item(`i${i}`, [i + 1, 1]))),
    );
    assert.equal((await a.meta("_", "c"))!.count, 40);
    const held = await a.index("_", "c");
    assert.equal(held!.index.size, 40);
    assert.equal((await b.index("_", "c"))!.index.size, 40);
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? b : a).delete("_", "c", `i${i}`)));
    assert.equal((await a.meta("_", "c"))!.count, 20);
    assert.equal((await a.index("_", "c"))!.index.size, 20);
    assert.deepEqual((await b.index("_", "c"))!.index.search([40, 1], 1).map((h) => h.id), ["i39"]);
  } finally {
    await a.close();
    await b.close();
    await Deno.remove(path);
  }
});
