/**
 * Image files whose headers lie: dimensions far beyond the pixel limit,
 * zero sizes, thousands of frames. Built by patching valid files (so the
 * rest of the file is real) or byte by byte where no library writes them.
 *
 * @module
 */
import { indexOfTag } from "./_hostile.ts";

/** CRC-32 (PNG chunks). */
function crc32(bytes: Uint8Array): number {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

/** A valid PNG with its IHDR width and height replaced (CRC recomputed, so only the size lies). */
export function pngWithSize(png: Uint8Array, width: number, height: number): Uint8Array {
  const out = png.slice();
  const view = new DataView(out.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  view.setUint32(29, crc32(out.subarray(12, 29)));
  return out;
}

/** A valid PNG whose first IDAT chunk declares 2^31-1 bytes. */
export function pngHugeChunk(png: Uint8Array): Uint8Array {
  const out = png.slice();
  const at = indexOfTag(out, "IDAT");
  new DataView(out.buffer).setUint32(at - 4, 0x7fffffff);
  return out;
}

/** A valid JPEG with its SOF height and width replaced (16 bits each: 65535 is the most JPEG can say). */
export function jpegWithSize(jpeg: Uint8Array, width: number, height: number): Uint8Array {
  const out = jpeg.slice();
  for (let i = 2; i + 9 < out.length; i++) {
    // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
    if (out[i] === 0xff && out[i + 1]! >= 0xc0 && out[i + 1]! <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(out[i + 1]!)) {
      const view = new DataView(out.buffer);
      view.setUint16(i + 5, height);
      view.setUint16(i + 7, width);
      return out;
    }
  }
  throw new Error("no SOF marker in the JPEG");
}

/** A valid GIF with its logical screen size replaced. */
export function gifWithScreen(gif: Uint8Array, width: number, height: number): Uint8Array {
  const out = gif.slice();
  const view = new DataView(out.buffer);
  view.setUint16(6, width, true);
  view.setUint16(8, height, true);
  return out;
}

/**
 * An animated GIF of `frames` frames on a `width` x `height` screen, each
 * frame declaring `frameSide` x `frameSide` pixels but holding one (23 bytes
 * per frame, so thousands of frames stay small).
 */
export function gifManyFrames(frames: number, width = 16, height = 16, frameSide = 1): Uint8Array {
  const le16 = (n: number) => [n & 0xff, n >> 8];
  const ascii = (text: string) => Array.from(text, (c) => c.charCodeAt(0));
  // Logical screen, then a 2-entry global colour table (black, white).
  const head = [...ascii("GIF89a"), ...le16(width), ...le16(height), 0x80, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff];
  // NETSCAPE2.0 looping extension, as animated GIFs carry.
  const loop = [0x21, 0xff, 0x0b, ...ascii("NETSCAPE2.0"), 3, 1, 0, 0, 0];
  const control = [0x21, 0xf9, 4, 0, 1, 0, 0, 0]; // 10 ms delay
  const descriptor = [0x2c, 0, 0, 0, 0, ...le16(frameSide), ...le16(frameSide), 0];
  const pixels = [2, 2, 0x44, 1, 0]; // LZW: min code size 2, one sub-block (clear, pixel 0, end)
  const frame = [...control, ...descriptor, ...pixels];
  const out = new Uint8Array(head.length + loop.length + frames * frame.length + 1);
  out.set(head);
  out.set(loop, head.length);
  for (let i = 0; i < frames; i++) out.set(frame, head.length + loop.length + i * frame.length);
  out[out.length - 1] = 0x3b;
  return out;
}

/** A WebP with a VP8X header declaring a `width` x `height` canvas in front of a valid simple-format bitstream. */
export function webpWithCanvas(webp: Uint8Array, width: number, height: number): Uint8Array {
  const bitstream = webp.subarray(12); // the "VP8 " / "VP8L" chunk of a simple WebP
  const vp8x = new Uint8Array(18);
  vp8x.set(Array.from("VP8X", (c) => c.charCodeAt(0)));
  new DataView(vp8x.buffer).setUint32(4, 10, true);
  const w = width - 1, h = height - 1;
  vp8x.set([w & 0xff, (w >> 8) & 0xff, (w >> 16) & 0xff, h & 0xff, (h >> 8) & 0xff, (h >> 16) & 0xff], 12);
  const out = new Uint8Array(12 + vp8x.length + bitstream.length);
  out.set(Array.from("RIFF", (c) => c.charCodeAt(0)));
  new DataView(out.buffer).setUint32(4, out.length - 8, true);
  out.set(Array.from("WEBP", (c) => c.charCodeAt(0)), 8);
  out.set(vp8x, 12);
  out.set(bitstream, 30);
  return out;
}

/** An AVIF with its `ispe` (image spatial extents) property replaced. */
export function avifWithSize(avif: Uint8Array, width: number, height: number): Uint8Array {
  const out = avif.slice();
  const at = indexOfTag(out, "ispe");
  if (at < 0) throw new Error("no ispe box in the AVIF");
  const view = new DataView(out.buffer);
  view.setUint32(at + 8, width); // after the tag: version/flags (4), width, height
  view.setUint32(at + 12, height);
  return out;
}

/**
 * A little-endian baseline TIFF declaring `width` x `height` 8-bit grey
 * pixels in one strip of 256 bytes (the pixels it claims are not there).
 */
export function tiffWithSize(width: number, height: number): Uint8Array {
  const entries: [tag: number, type: number, value: number][] = [
    [256, 4, width], // ImageWidth, LONG
    [257, 4, height], // ImageLength
    [258, 3, 8], // BitsPerSample
    [259, 3, 1], // Compression: none
    [262, 3, 1], // Photometric: black is zero
    [273, 4, 0], // StripOffsets (patched below)
    [277, 3, 1], // SamplesPerPixel
    [278, 4, height], // RowsPerStrip
    [279, 4, 256], // StripByteCounts
  ];
  const ifdSize = 2 + entries.length * 12 + 4;
  const out = new Uint8Array(8 + ifdSize + 256);
  const view = new DataView(out.buffer);
  out.set([0x49, 0x49, 0x2a, 0]);
  view.setUint32(4, 8, true);
  view.setUint16(8, entries.length, true);
  entries.forEach(([tag, type, value], i) => {
    const at = 10 + i * 12;
    view.setUint16(at, tag, true);
    view.setUint16(at + 2, type, true);
    view.setUint32(at + 4, 1, true);
    if (tag === 273) value = 8 + ifdSize;
    if (type === 3) view.setUint16(at + 8, value, true);
    else view.setUint32(at + 8, value, true);
  });
  return out;
}

/**
 * A HEIC whose every `ispe` (image spatial extent) box claims `width` x
 * `height`: the primary item, its tiles and thumbnails alike.
 */
export function heicWithSize(heic: Uint8Array, width: number, height: number): Uint8Array {
  const out = heic.slice();
  const view = new DataView(out.buffer);
  let patched = 0;
  for (let at = indexOfTag(out, "ispe"); at >= 0; at = indexOfTag(out, "ispe", at + 4)) {
    view.setUint32(at + 8, width); // after the tag: version/flags (4), width, height
    view.setUint32(at + 12, height);
    patched++;
  }
  if (patched === 0) throw new Error("no ispe box in the HEIC");
  return out;
}
