import assert from "node:assert/strict";
import { decodeMedia } from "../../../lib/media/decode_media.ts";
import { describeUnsupported, SUPPORTED_FORMATS } from "../../../lib/media/formats.ts";
import { ProblemError } from "../../../lib/errors.ts";

const text = (s: string) => new TextEncoder().encode(s);
const bmp = new Uint8Array(70);
bmp.set(text("BM"));

Deno.test("decodeMedia() names common unsupported files in its 415 and lists the supported formats", async (t) => {
  const cases: [string, Uint8Array, RegExp][] = [
    ["a BMP", bmp, /got BMP\)/],
    ["an SVG", text('<?xml version="1.0"?>\n<!-- x -->\n<svg xmlns="http://www.w3.org/2000/svg"/>'), /got SVG\)/],
    ["a JSON body", text('{"input": "violin.wav"}'), /got JSON\)/],
    ["an HTML page", text("<!DOCTYPE html><html></html>"), /got HTML\)/],
    ["plain text", text("hello, is this the violin service?"), /got plain text\)/],
    ["unknown bytes", new Uint8Array([0, 1, 2, 250]), /first bytes: 00 01 02 fa/],
  ];
  for (const [name, bytes, what] of cases) {
    await t.step(name, async () => {
      const error = await decodeMedia(bytes).then(() => undefined, (e) => e);
      assert.ok(error instanceof ProblemError);
      assert.equal(error.status, 415);
      assert.match(error.message, what);
      for (const format of [...SUPPORTED_FORMATS.audio, ...SUPPORTED_FORMATS.image, ...SUPPORTED_FORMATS.video]) {
        assert.ok(error.message.includes(format), `${format} missing from: ${error.message}`);
      }
    });
  }
});

Deno.test("describeUnsupported() leaves binary data it does not know unnamed", () => {
  assert.equal(describeUnsupported(new Uint8Array([0xde, 0xad, 0xbe, 0xef])), undefined);
  assert.equal(describeUnsupported(text("[1, 2")), "plain text", "not JSON when it does not parse");
});
