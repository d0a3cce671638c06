import assert from "node:assert/strict";
import { ProblemError } from "../../../lib/errors.ts";
import { declaredPixels, decodeImage } from "../../../lib/media/decode_image.ts";
import { keepAlive, loadSharp } from "../../../lib/media/sharp.ts";
import { buildWav, int16Bytes, sine } from "./_audio.ts";
import { CORPUS_JPEG, CORPUS_PNG, corpusFile } from "./_corpus.ts";
import { encodeImage, quadrants } from "./_images.ts";

const SIZE = 224;
const problem = (status: number, pattern: RegExp) => (e: unknown) =>
  e instanceof ProblemError && e.status === status && pattern.test(e.message);

/** Pixel (x, y) of a 224x224 RGB output. */
const at = (pixels: Uint8Array, x: number, y: number) =>
  Array.from(pixels.subarray((y * SIZE + x) * 3, (y * SIZE + x) * 3 + 3));

function meanAbsDiff(a: Uint8Array, b: Uint8Array): number {
  assert.equal(a.length, b.length);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
  return sum / a.length;
}

function near(actual: number[], expected: number[], tolerance: number, what: string): void {
  assert.ok(actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance), `${what}: ${actual} not near ${expected}`);
}

/** Full-resolution RGB of an image, decoded by sharp without any preprocessing. */
async function rawRgb(bytes: Uint8Array): Promise<{ data: Uint8Array; width: number; height: number }> {
  const sharp = await loadSharp();
  const { data, info } = await keepAlive(
    sharp(bytes).flatten({ background: "#ffffff" }).toColourspace("srgb").raw().toBuffer({ resolveWithObject: true }),
  );
  return { data: new Uint8Array(data), width: info.width, height: info.height };
}

/**
 * Reference for the upscaling case, written independently of sharp's
 * pipeline: tf.image.central_crop box, then bilinear sampling at source
 * position `x * in / out - 0.5` (libvips' enlargement grid, see
 * decode_image.ts) with clamped edges.
 */
function referenceCropResize(src: { data: Uint8Array; width: number; height: number }, fraction: number): Uint8Array {
  const left = Math.trunc((src.width - src.width * fraction) / 2);
  const top = Math.trunc((src.height - src.height * fraction) / 2);
  const cw = src.width - 2 * left, ch = src.height - 2 * top;
  const out = new Uint8Array(SIZE * SIZE * 3);
  const clamp = (v: number, hi: number) => Math.min(hi, Math.max(0, v));
  for (let y = 0; y < SIZE; y++) {
    const sy = clamp(y * ch / SIZE - 0.5, ch - 1);
    const y0 = Math.floor(sy), y1 = Math.min(ch - 1, y0 + 1), fy = sy - y0;
    for (let x = 0; x < SIZE; x++) {
      const sx = clamp(x * cw / SIZE - 0.5, cw - 1);
      const x0 = Math.floor(sx), x1 = Math.min(cw - 1, x0 + 1), fx = sx - x0;
      for (let c = 0; c < 3; c++) {
        const p = (yy: number, xx: number) => src.data[((top + yy) * src.width + left + xx) * 3 + c]!;
        const v = (1 - fy) * ((1 - fx) * p(y0, x0) + fx * p(y0, x1)) + fy * ((1 - fx) * p(y1, x0) + fx * p(y1, x1));
        out[(y * SIZE + x) * 3 + c] = Math.round(v);
      }
    }
  }
  return out;
}

for (const [name, path] of [["JPEG", CORPUS_JPEG], ["PNG (named .jpg)", CORPUS_PNG]] as const) {
  Deno.test(`decodeImage() crops 87.5 % and resizes a corpus ${name} like the reference`, async () => {
    const bytes = await corpusFile(path);
    const decoded = await decodeImage(bytes);
    const src = await rawRgb(bytes);
    assert.equal(decoded.pixels.length, SIZE * SIZE * 3);
    assert.equal(decoded.width, src.width);
    assert.equal(decoded.height, src.height);
    const diff = meanAbsDiff(decoded.pixels, referenceCropResize(src, 0.875));
    assert.ok(diff < 0.5, `mean |difference| ${diff}`);
  });
}

Deno.test("decodeImage() flattens transparency onto white", async () => {
  // Left half transparent (with black colour values), right half opaque blue.
  const px = new Uint8Array(64 * 64 * 4);
  for (let y = 0; y < 64; y++) for (let x = 32; x < 64; x++) px.set([0, 0, 255, 255], (y * 64 + x) * 4);
  const png = await encodeImage(px, { width: 64, height: 64, channels: 4 }, "png");
  const { pixels } = await decodeImage(png);
  near(at(pixels, 40, 112), [255, 255, 255], 0, "transparent side");
  near(at(pixels, 180, 112), [0, 0, 255], 0, "opaque side");
});

for (const [w, h] of [[200, 100], [1280, 640]] as const) {
  // The larger size takes the shrink-on-load path (resize before crop), the smaller the exact one.
  Deno.test(`decodeImage() applies the EXIF orientation before cropping (${w}x${h})`, async () => {
    // Stored landscape; orientation 6 means "rotate 90° clockwise to display".
    const jpeg = await encodeImage(quadrants(w, h), { width: w, height: h, channels: 3 }, "jpeg", { orientation: 6 });
    const { pixels, width, height } = await decodeImage(jpeg);
    assert.deepEqual([width, height], [h, w]);
    // Stored top-left (green) goes to the top-right, stored bottom-left (red) to the top-left,
    // the stored right half (blue) to the bottom.
    near(at(pixels, 170, 50), [0, 255, 0], 40, "top right");
    near(at(pixels, 50, 50), [255, 0, 0], 40, "top left");
    near(at(pixels, 112, 170), [0, 0, 255], 40, "bottom");
  });
}

Deno.test("decodeImage() decodes WebP, GIF, AVIF and TIFF made by sharp", async () => {
  const raw = { width: 96, height: 80, channels: 3 } as const;
  const px = quadrants(96, 80);
  const expected = (await decodeImage(await encodeImage(px, raw, "png"))).pixels;
  // GIF quantises colours and AVIF/WebP are lossy; flat quadrants survive all of them closely.
  for (const [format, tolerance] of [["webp", 3], ["gif", 1], ["avif", 4], ["tiff", 0.01]] as const) {
    const { pixels } = await decodeImage(await encodeImage(px, raw, format));
    const diff = meanAbsDiff(pixels, expected);
    assert.ok(diff <= tolerance, `${format}: mean |difference| ${diff}`);
  }
});

Deno.test("decodeImage() takes the first frame of an animated GIF", async () => {
  const sharp = await loadSharp();
  const frames = new Uint8Array(32 * 64 * 3);
  frames.fill(255, 0, 32 * 32 * 3); // frame 1 white, frame 2 black
  const gif = await keepAlive(
    sharp(frames, { raw: { width: 32, height: 64, channels: 3, pageHeight: 32 } }).gif().toBuffer(),
  );
  const meta = await keepAlive(sharp(gif).metadata());
  assert.equal(meta.pages, 2);
  const { pixels, height } = await decodeImage(new Uint8Array(gif));
  assert.equal(height, 32);
  assert.ok(pixels.every((v) => v === 255));
});

Deno.test("decodeImage() converts grey and 16-bit images to 8-bit RGB", async () => {
  const sharp = await loadSharp();
  const grey = await encodeImage(new Uint8Array(48 * 48).fill(100), { width: 48, height: 48, channels: 1 }, "png");
  near(at((await decodeImage(grey)).pixels, 100, 100), [100, 100, 100], 0, "grey");
  const deep = await keepAlive(
    sharp({ create: { width: 48, height: 48, channels: 3, background: { r: 200, g: 100, b: 50 } } })
      .toColourspace("rgb16").png().toBuffer(),
  );
  assert.equal((await keepAlive(sharp(deep).metadata())).depth, "ushort");
  near(at((await decodeImage(new Uint8Array(deep))).pixels, 100, 100), [200, 100, 50], 1, "16-bit");
});

Deno.test("decodeImage() shrink-on-load path agrees with the exact crop-then-resize path", async () => {
  // A 1280x960 JPEG takes the fast path; the same pixels as PNG take the exact one.
  const px = new Uint8Array(1280 * 960 * 3);
  for (let y = 0; y < 960; y++) {
    for (let x = 0; x < 1280; x++) {
      px.set([(x * 255) / 1279, (y * 255) / 959, ((x + y) % 160) < 80 ? 40 : 220], (y * 1280 + x) * 3);
    }
  }
  const jpeg = await encodeImage(px, { width: 1280, height: 960, channels: 3 }, "jpeg", { quality: 95 });
  const decodedJpeg = await rawRgb(jpeg);
  const png = await encodeImage(decodedJpeg.data, { width: 1280, height: 960, channels: 3 }, "png");
  const fast = await decodeImage(jpeg);
  const exact = await decodeImage(png);
  const diff = meanAbsDiff(fast.pixels, exact.pixels);
  assert.ok(diff < 2, `mean |difference| ${diff}`);
});

function pngChunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, body.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(body, 8);
  v.setUint32(8 + body.length, crc32(out.subarray(4, 8 + body.length)));
  return out;
}

/**
 * A PNG that declares width x height in its IHDR (CRCs correct) but holds
 * an empty zlib stream as its only IDAT: 57 bytes whatever the size.
 */
function pngHeader(width: number, height: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, deflate, no filter, no interlace
  const parts = [
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("IDAT", new Uint8Array([0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01])),
    pngChunk("IEND", new Uint8Array(0)),
  ];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) out.set(p, at), at += p.length;
  return out;
}

function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return (crc ^ 0xffffffff) >>> 0;
}

Deno.test("decodeImage() rejects images over maxPixels from the header alone", async () => {
  // 10^10 pixels: decoding would need 30 GB; the header read rejects it.
  await assert.rejects(
    decodeImage(pngHeader(100_000, 100_000)),
    (e: unknown) =>
      problem(422, /100000x100000 = 10000000000 pixels, over the limit of 40000000/)(e) &&
      (e as ProblemError).extensions.limit === 40e6,
  );
  const real = await corpusFile(CORPUS_JPEG);
  await assert.rejects(decodeImage(real, { maxPixels: 224 * 224 - 1 }), problem(422, /over the limit of 50175/));
  assert.equal((await decodeImage(real, { maxPixels: 224 * 224 })).pixels.length, SIZE * SIZE * 3);
});

Deno.test("decodeImage() rejects truncated and garbage images with a 422, non-images with a 415", async () => {
  const jpeg = await corpusFile(CORPUS_JPEG);
  const wav = buildWav({ formatTag: 1, channels: 1, rate: 8000, bits: 16, data: int16Bytes([sine(440, 8000, 0.1)]) });
  const cases: [string, Uint8Array, number, RegExp][] = [
    ["a JPEG cut in half", jpeg.subarray(0, jpeg.length >> 1), 422, /Cannot decode image/],
    ["a PNG header without image data", pngHeader(64, 64), 422, /Cannot decode image/],
    [
      "a JPEG signature then garbage",
      new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3, 4, 5, 6, 7, 8]),
      422,
      /Cannot decode image/,
    ],
    ["a WAV file", wav, 415, /got wav audio/],
    ["text", new TextEncoder().encode("hello"), 415, /first bytes 68 65 6c/],
    ["nothing", new Uint8Array(0), 415, /\(empty\)/],
  ];
  for (const [name, bytes, status, detail] of cases) {
    await assert.rejects(decodeImage(bytes), problem(status, detail), name);
  }
});

Deno.test("decodeImage() honours size and centralFraction, and validates them", async () => {
  const bytes = await corpusFile(CORPUS_JPEG);
  const small = await decodeImage(bytes, { size: 96, centralFraction: 1 });
  assert.equal(small.pixels.length, 96 * 96 * 3);
  await assert.rejects(decodeImage(bytes, { size: 0 }), RangeError);
  await assert.rejects(decodeImage(bytes, { centralFraction: 0 }), RangeError);
  await assert.rejects(decodeImage(bytes, { centralFraction: 1.5 }), RangeError);
});

Deno.test("declaredPixels() reads the size from the header without decoding", async () => {
  assert.deepEqual(declaredPixels(await corpusFile(CORPUS_JPEG)), { width: 224, height: 224 });
  assert.equal(declaredPixels(new TextEncoder().encode("not an image")), undefined);
  // A fuzz finding: 7.5 kB claiming 11392x10742; sharp's own header read of it grew the WASM heap by ~470 MB.
  const liar = await Deno.readFile(new URL("../../fixtures/regressions/webp-claims-11392x10742.webp", import.meta.url));
  assert.deepEqual(declaredPixels(liar), { width: 11392, height: 10742 });
  await assert.rejects(decodeImage(liar), problem(422, /11392x10742 = 122372864 pixels, over the limit/));
});
