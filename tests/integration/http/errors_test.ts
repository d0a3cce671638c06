import assert from "node:assert/strict";
import { join } from "node:path";
import { post, serverTest, SHARED, startTestService } from "./_service.ts";

const photoDir = join(SHARED, "corpus/images/gpiosenka/banjo");
const photo = () => Deno.readFile(join(photoDir, Array.from(Deno.readDirSync(photoDir))[0]!.name));

/** A PNG header declaring 100000 x 100000 pixels, with a valid IHDR CRC. */
function hugePngHeader(): Uint8Array<ArrayBuffer> {
  const ihdr = new Uint8Array(17);
  const view = new DataView(ihdr.buffer);
  ihdr.set([0x49, 0x48, 0x44, 0x52]); // "IHDR"
  view.setUint32(4, 100000);
  view.setUint32(8, 100000);
  ihdr.set([8, 2, 0, 0, 0], 12);
  let crc = ~0;
  for (const byte of ihdr) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  const out = new Uint8Array(8 + 4 + 17 + 4 + 64);
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  new DataView(out.buffer).setUint32(8, 13);
  out.set(ihdr, 12);
  new DataView(out.buffer).setUint32(29, ~crc >>> 0);
  return out;
}

Deno.test("the API answers every bad input with a problem+json 4xx", serverTest, async (t) => {
  const service = await startTestService({ maxBodyBytes: 1_000_000 });
  const embed = `${service.url}/v1/embed?space=encoder`;
  const cases: { name: string; status: number; body: () => Promise<BodyInit> | BodyInit; url?: string }[] = [
    { name: "empty body", status: 400, body: () => new Uint8Array(0) },
    { name: "body over AMODAL_MAX_BODY_BYTES", status: 413, body: () => new Uint8Array(1_000_001) },
    { name: "text is not a supported format", status: 415, body: () => new TextEncoder().encode("hello world") },
    { name: "one byte", status: 415, body: () => new Uint8Array([0xff]) },
    {
      name: "truncated JPEG",
      status: 422,
      body: async () => (await photo()).subarray(0, 600),
    },
    { name: "PNG declaring 100000x100000 pixels", status: 422, body: hugePngHeader },
    {
      name: "WAV header with zero channels",
      status: 422,
      body: () => {
        const b = new Uint8Array(64);
        const v = new DataView(b.buffer);
        b.set(new TextEncoder().encode("RIFF"), 0);
        v.setUint32(4, 56, true);
        b.set(new TextEncoder().encode("WAVEfmt "), 8);
        v.setUint32(16, 16, true);
        v.setUint16(20, 1, true);
        v.setUint16(22, 0, true);
        v.setUint32(24, 16000, true);
        b.set(new TextEncoder().encode("data"), 36);
        v.setUint32(40, 20, true);
        return b;
      },
    },
    {
      name: "multipart without a file field",
      status: 400,
      body: () => {
        const f = new FormData();
        f.append("other", "x");
        return f;
      },
    },
    {
      name: "multipart with two file fields",
      status: 400,
      body: async () => {
        const f = new FormData();
        f.append("file", new Blob([await photo()]));
        f.append("file", new Blob([await photo()]));
        return f;
      },
    },
    { name: "unknown space", status: 400, body: photo, url: `${service.url}/v1/embed?space=nope` },
    { name: "bad top_k", status: 400, body: photo, url: `${service.url}/v1/classify?top_k=zero` },
  ];
  try {
    for (const c of cases) {
      await t.step(`${c.name} -> ${c.status}`, async () => {
        const res = await post(c.url ?? embed, await c.body());
        assert.equal(res.status, c.status, JSON.stringify(res.json));
        assert.equal(res.type, "application/problem+json");
        assert.equal(res.json.status, c.status);
        assert.equal(typeof res.json.title, "string");
        assert.equal(typeof res.json.type, "string");
        assert.equal(typeof res.json.detail, "string");
        assert.doesNotMatch(String(res.json.detail), /\/work\/|at .*\.ts:/, "no paths or stacks leak");
      });
    }
    await t.step("unknown route -> 404 problem", async () => {
      const res = await fetch(`${service.url}/nope`);
      assert.equal(res.status, 404);
      assert.equal(res.headers.get("content-type"), "application/problem+json");
      await res.body?.cancel();
    });
    await t.step("the service still works after all of that", async () => {
      const res = await post(embed, await photo());
      assert.equal(res.status, 200);
    });
  } finally {
    await service.close();
  }
});
