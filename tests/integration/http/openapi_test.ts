import assert from "node:assert/strict";
import { join } from "node:path";
import { serverTest, SHARED, startTestService } from "./_service.ts";
import { type OpenApiDocument, ResponseChecker } from "../../routes/_openapi.ts";
import { fromFloat32Base64 } from "../../../lib/http/float32.ts";

const corpus = join(SHARED, "corpus");
const first = (dir: string) => {
  const name = Array.from(Deno.readDirSync(join(corpus, dir))).map((e) => e.name).sort()[0]!;
  return Deno.readFile(join(corpus, dir, name));
};

Deno.test(
  "the real service's answers match its OpenAPI document; repeats answer from the cache",
  serverTest,
  async (t) => {
    const service = await startTestService();
    const url = (path: string) => `${service.url}${path}`;
    try {
      const checker = new ResponseChecker(await (await fetch(url("/openapi.json"))).json() as OpenApiDocument);
      const photo = await first("images/gpiosenka/violin");
      const sound = await first("audio/iowa_pitchfinder/violin");

      await t.step("classify a photo and a sound; the same photo again is a cache hit with the same ETag", async () => {
        const a = await fetch(url("/v1/classify?top_k=3"), { method: "POST", body: photo });
        assert.equal(a.headers.get("x-cache"), "miss");
        assert.match(a.headers.get("server-timing") ?? "", /encoder;dur=/);
        assert.ok(a.headers.get("x-request-id"));
        const body = await checker.check("POST", "/v1/classify", a) as { model: string; sha256: string };
        assert.match(body.model, /^mmt-/);
        const b = await fetch(url("/v1/classify?top_k=3"), { method: "POST", body: photo });
        assert.equal(b.headers.get("x-cache"), "hit");
        assert.equal(b.headers.get("server-timing"), null, "no inference ran, so no stage timings");
        assert.equal(b.headers.get("etag"), a.headers.get("etag"));
        assert.deepEqual(await checker.check("POST", "/v1/classify", b), body);
        const cached = await fetch(url(a.headers.get("content-location")!));
        assert.equal(cached.headers.get("cache-control"), "public, max-age=31536000, immutable");
        assert.deepEqual(await checker.check("GET", "/v1/results/{sha256}", cached), body);
        await checker.check("POST", "/v1/classify", await fetch(url("/v1/classify"), { method: "POST", body: sound }));
      });

      await t.step("embed as float JSON and as base64 float32: the same vector", async () => {
        const floats = await checker.check(
          "POST",
          "/v1/embed",
          await fetch(url("/v1/embed?space=encoder"), { method: "POST", body: sound }),
        ) as { embedding: number[]; dim: number };
        const packed = await checker.check(
          "POST",
          "/v1/embed",
          await fetch(url("/v1/embed?space=encoder&encoding=base64"), { method: "POST", body: sound }),
        ) as { embedding: string };
        assert.equal(floats.dim, 1024);
        // The JSON form prints the shortest decimal of each float32: it reads back as the same float32.
        assert.deepEqual(Array.from(fromFloat32Base64(packed.embedding)), floats.embedding.map(Math.fround));
      });

      await t.step("a batch of a photo, a sound and a JSON file: two labels and one 415, in order", async () => {
        const form = new FormData();
        form.append("file", new File([photo], "violin.jpg"));
        form.append("file", new File([sound], "violin.flac"));
        form.append("file", new File(['{"a": 1}'], "notes.json"));
        const res = await fetch(url("/v1/batch?top_k=2"), { method: "POST", body: form });
        const body = await checker.check("POST", "/v1/batch", res) as {
          items: { name: string; status: number; result?: { modality: string } }[];
        };
        assert.deepEqual(body.items.map((i) => [i.name, i.status, i.result?.modality]), [
          ["violin.jpg", 200, "image"],
          ["violin.flac", 200, "audio"],
          ["notes.json", 415, undefined],
        ]);
      });

      await t.step("metadata and a truncated FLAC's problem match the document", async () => {
        for (const path of ["/healthz", "/v1/models", "/v1/labels"]) {
          await checker.check("GET", path, await fetch(url(path)));
        }
        const bad = await fetch(url("/v1/classify"), { method: "POST", body: sound.subarray(0, 200) });
        assert.equal(bad.status, 422);
        await checker.check("POST", "/v1/classify", bad);
      });
    } finally {
      await service.close();
    }
  },
);
