/**
 * The README's format table, checked against the running service: one file
 * of every listed format gets a 200, and the formats refused by design get a
 * 415 that names them. The table's rows and this test's rows must be the
 * same list, so neither can drift from the other.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { encodeAudio } from "../../../lib/media/ffmpeg.ts";
import { encodeAiff } from "../../../scripts/shared/encode_aiff.ts";
import { makeVideo } from "../../../scripts/shared/make_video.ts";
import { encodeWav } from "../../../lib/media/encode_wav.ts";
import { testSignal, validImages } from "../hostile/_hostile.ts";
import { buildWav, floatBytes } from "../../lib/media/_audio.ts";
import { post, serverTest, SHARED, startTestService } from "./_service.ts";

const HEIC = join(SHARED, "fixtures/heic/winter_1440x960.heic");

/** One file per README row, keyed by the row's first cell. `undefined`: skipped (peer fixture folder absent). */
async function oneOfEach(): Promise<Record<string, Uint8Array | undefined>> {
  const rate = 22050;
  const signal = testSignal(rate);
  const images = await validImages();
  return {
    "WAV (PCM 8-32 bit, float 32/64)": buildWav({
      formatTag: 3,
      channels: 1,
      rate,
      bits: 32,
      data: floatBytes([signal], 32),
    }),
    // Any byte is a valid A-law sample: a deterministic byte pattern is noise ffmpeg decodes.
    "WAV (A-law, µ-law, ADPCM, ...)": buildWav({
      formatTag: 6,
      channels: 1,
      rate: 8000,
      bits: 8,
      data: Uint8Array.from({ length: 8000 }, (_, i) => (i * 37) & 0xff),
    }),
    "AIFF (PCM 8-32 bit)": encodeAiff({ channels: [signal, signal], sampleRate: rate, bits: 24 }),
    "AIFF-C (`NONE`, `twos`, `sowt`, `raw`, `fl32`, `fl64`)": encodeAiff({
      channels: [signal],
      sampleRate: rate,
      compression: "sowt",
    }),
    "MP3": await encodeAudio(signal, rate, "mp3"),
    "AAC (ADTS)": await encodeAudio(signal, rate, "aac"),
    "M4A / MP4 (audio track)": await encodeAudio(signal, rate, "m4a"),
    "Ogg Vorbis / Opus": await encodeAudio(signal, rate, "opus"),
    "FLAC": await encodeAudio(signal, rate, "flac"),
    "WebM / Matroska (audio track)": await encodeAudio(signal, rate, "webm"),
    "MP4 / MOV (video track + audio track)": await makeVideo(images.png, encodeWav(signal, rate), { container: "mov" }),
    "WebM / Matroska (video track + audio track)": await makeVideo(images.png, encodeWav(signal, rate), {
      container: "webm",
    }),
    "JPEG": images.jpeg,
    "PNG": images.png,
    "WebP": images.webp,
    "GIF": images.gif,
    "AVIF": images.avif,
    "HEIC / HEIF (HEVC)": existsSync(HEIC) ? await Deno.readFile(HEIC) : undefined,
    "TIFF": images.tiff,
  };
}

/** First cells of the rows of README's "Accepted formats" table. */
async function readmeRows(): Promise<string[]> {
  const readme = await Deno.readTextFile(new URL("../../../README.md", import.meta.url));
  const section = readme.split("\n## Accepted formats")[1]?.split("\n## ")[0];
  assert.ok(section, "README has an '## Accepted formats' section");
  return section.split("\n").filter((line) => line.startsWith("| ") && !/^\| (format|---)/i.test(line))
    .map((line) => line.split(" | ")[0]!.slice(2).trim());
}

Deno.test("POST /v1/embed accepts one file of every format in the README's table", serverTest, async (t) => {
  const files = await oneOfEach();
  assert.deepEqual(await readmeRows(), Object.keys(files), "README rows = tested formats, in order");
  const service = await startTestService({ maxBodyBytes: 4_000_000 });
  try {
    for (const [format, body] of Object.entries(files)) {
      await t.step({
        name: `${format} -> 200`,
        ignore: body === undefined,
        fn: async () => {
          const res = await post(`${service.url}/v1/embed?space=encoder`, new Uint8Array(body!));
          assert.equal(res.status, 200, `${format}: ${JSON.stringify(res.json)}`);
        },
      });
    }

    const refused: [string, Uint8Array][] = [
      ["BMP", bmp()],
      ["SVG", new TextEncoder().encode('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>')],
      ["PDF", new TextEncoder().encode("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")],
    ];
    for (const [name, body] of refused) {
      await t.step(`${name} -> 415 naming ${name} and the accepted formats`, async () => {
        const res = await post(`${service.url}/v1/embed?space=encoder`, new Uint8Array(body));
        assert.equal(res.status, 415);
        assert.match(res.type, /application\/problem\+json/);
        assert.match(String(res.json.detail), new RegExp(`got ${name}\\)`));
        assert.match(String(res.json.detail), /AIFF/);
        assert.match(String(res.json.detail), /HEIC/);
        assert.match(String(res.json.detail), /video MP4, MOV, WebM/);
      });
    }
  } finally {
    await service.close();
  }
});

/** A 2x2 24-bit BMP. */
function bmp(): Uint8Array {
  const out = new Uint8Array(54 + 16);
  const view = new DataView(out.buffer);
  out.set([0x42, 0x4d]);
  view.setUint32(2, out.length, true);
  view.setUint32(10, 54, true);
  view.setUint32(14, 40, true);
  view.setInt32(18, 2, true);
  view.setInt32(22, 2, true);
  view.setUint16(26, 1, true);
  view.setUint16(28, 24, true);
  return out;
}
