import assert from "node:assert/strict";
import { encodeWav } from "../../../lib/media/encode_wav.ts";
import { serverTest } from "../http/_service.ts";
import { type HostileCase, MAX_BODY_BYTES, rss, sendAll, startHostileService, testSignal } from "./_hostile.ts";

const BAD_REQUEST = [400];
const UNSUPPORTED = [415];

/** A body that arrives in chunks with no Content-Length, `total` bytes in all. */
function chunked(total: number, chunk = 256 * 1024): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(chunk, total - sent);
      controller.enqueue(new Uint8Array(n).fill(0x52));
      sent += n;
    },
  });
}

/** A hand-written multipart body (FormData cannot write broken ones). */
function multipart(boundary: string, parts: string): Uint8Array {
  return new TextEncoder().encode(parts.replaceAll("{b}", boundary).replaceAll("\n", "\r\n"));
}

function form(fields: [name: string, value: string | Blob][]): FormData {
  const f = new FormData();
  for (const [name, value] of fields) f.append(name, value);
  return f;
}

function cases(wav: Uint8Array<ArrayBuffer>): HostileCase[] {
  const file = () => new Blob([wav], { type: "audio/wav" });
  const multi = { "content-type": "multipart/form-data; boundary=XyZ" };
  return [
    { name: "empty body", body: new Uint8Array(0), expect: BAD_REQUEST },
    ...[0x00, 0xff, 0x52, 0x89, 0x47, 0x1a].map((b) => ({
      name: `one byte 0x${b.toString(16)}`,
      body: new Uint8Array([b]),
      expect: UNSUPPORTED,
    })),
    { name: "two bytes of a JPEG marker", body: new Uint8Array([0xff, 0xd8]), expect: UNSUPPORTED },
    { name: "text", body: "hello, world", headers: { "content-type": "text/plain" }, expect: UNSUPPORTED },
    { name: "JSON", body: '{"file": "x.wav"}', headers: { "content-type": "application/json" }, expect: UNSUPPORTED },
    { name: "HTML form urlencoded", body: new URLSearchParams({ file: "x" }), expect: UNSUPPORTED },
    { name: "a valid WAV labelled image/png", body: wav, headers: { "content-type": "image/png" }, expect: [200] },
    {
      name: "a valid WAV labelled application/json",
      body: wav,
      headers: { "content-type": "application/json" },
      expect: [200],
    },
    { name: "a valid WAV with no Content-Type", body: new Blob([wav]), expect: [200] },
    { name: "multipart with the file", body: form([["file", file()]]), expect: [200] },
    { name: "multipart without a file field", body: form([["other", file()]]), expect: BAD_REQUEST },
    { name: "multipart with two file fields", body: form([["file", file()], ["file", file()]]), expect: BAD_REQUEST },
    { name: "multipart with no fields", body: new FormData(), expect: BAD_REQUEST },
    { name: "multipart whose file is an empty string", body: form([["file", ""]]), expect: BAD_REQUEST },
    { name: "multipart whose file is text", body: form([["file", "not a file"]]), expect: UNSUPPORTED },
    {
      name: "multipart whose file is empty",
      body: form([["file", new Blob([])]]),
      expect: BAD_REQUEST,
    },
    { name: "multipart Content-Type on raw WAV bytes", body: wav, headers: multi, expect: BAD_REQUEST },
    {
      name: "multipart without a boundary parameter",
      body: wav,
      headers: { "content-type": "multipart/form-data" },
      expect: BAD_REQUEST,
    },
    {
      name: "multipart with an unterminated part",
      body: multipart("XyZ", '--{b}\nContent-Disposition: form-data; name="file"; filename="a.wav"\n\nRIFF'),
      headers: multi,
      expect: BAD_REQUEST,
    },
    {
      name: "multipart part without headers",
      body: multipart("XyZ", "--{b}\n\nRIFF\n--{b}--\n"),
      headers: multi,
      expect: BAD_REQUEST,
    },
    {
      name: "multipart with a 2 kB boundary and no parts",
      body: multipart("B".repeat(2000), "--{b}--\n"),
      headers: { "content-type": `multipart/form-data; boundary=${"B".repeat(2000)}` },
      expect: BAD_REQUEST,
    },
    {
      name: "multipart with a 100 kB boundary",
      body: multipart("B".repeat(100_000), "--{b}--\n"),
      headers: { "content-type": `multipart/form-data; boundary=${"B".repeat(100_000)}` },
      // Deno's HTTP server refuses the header block itself (a bare 400) before the app sees it.
      transport: true,
    },
    { name: "body one byte over the limit", body: new Uint8Array(MAX_BODY_BYTES + 1), expect: [413] },
    {
      name: "chunked body over the limit (no Content-Length)",
      body: chunked(MAX_BODY_BYTES * 3),
      expect: [413],
    },
    {
      name: "multipart over the limit",
      body: form([["file", new Blob([new Uint8Array(MAX_BODY_BYTES + 10)])]]),
      expect: [413],
    },
  ];
}

Deno.test("POST /v1/embed answers malformed requests with problem+json", serverTest, async (t) => {
  const service = await startHostileService();
  const url = `${service.url}/v1/embed?space=encoder`;
  const wav = encodeWav(testSignal(16000, 1), 16000);
  try {
    // Models load on first use: load the audio path (encoder, translator, classifier head) before the baseline, so the
    // growth measured below is what the hostile bodies leave, not the models.
    await sendAll(`${service.url}/v1/classify`, [{ name: "warm-up WAV", body: wav, expect: [200, 404] }]);
    const baseline = rss();
    await t.step("every case gets its status", async () => {
      for (const c of cases(wav)) await sendAll(url, [c]);
    });
    await t.step("the same cases against /v1/classify never give a 5xx", async () => {
      // /v1/classify needs trained artifacts; without them a decodable upload gets a 404 problem.
      const models = await (await fetch(`${service.url}/v1/models`)).json();
      const loose = cases(wav).map((c) => models.joint || !c.expect ? c : { ...c, expect: [...c.expect, 404] });
      for (const c of loose) await sendAll(`${service.url}/v1/classify`, [c]);
    });
    await t.step("the service is unharmed", async () => {
      assert.equal(service.pool.stats().restarts, 0);
      const h = await sendAll(url, [{ name: "valid WAV", body: wav, expect: [200] }]);
      assert.deepEqual(h, { 200: 1 });
      // Request bodies are never kept: 25 cases of up to 12 MB leave no lasting trace.
      assert.ok(rss() - baseline < 256 * 2 ** 20, `RSS grew by ${Math.round((rss() - baseline) / 2 ** 20)} MiB`);
    });
  } finally {
    await service.close();
  }
});
