/**
 * The formats the service takes, in words, and what a refused file looks like: one list, so every 415
 * names the same formats, and common files the service does not take (a HEIC photo from an iPhone, a
 * BMP, an SVG drawing, a JSON body) are called by their name instead of by their first bytes.
 *
 * @module
 */

/** Supported formats by modality, as a client would name them. Keep in step with `sniff.ts`. */
export const SUPPORTED_FORMATS: { audio: readonly string[]; image: readonly string[] } = {
  audio: ["WAV", "MP3", "Ogg Vorbis/Opus", "FLAC", "AAC/M4A", "the audio track of MP4/MOV/WebM video"],
  image: ["JPEG", "PNG", "WebP", "GIF", "AVIF", "TIFF"],
};

/**
 * The supported formats as one sentence.
 *
 * @returns e.g. `Supported: audio WAV, MP3, ...; images JPEG, PNG, ...`.
 */
export function supportedFormatsText(): string {
  return `Supported: audio ${SUPPORTED_FORMATS.audio.join(", ")}; images ${SUPPORTED_FORMATS.image.join(", ")}`;
}

/** ISO-BMFF brands of HEIF/HEIC images with HEVC content (no HEVC decoder in the sharp-wasm build). */
const HEIC_BRANDS = ["heic", "heix", "hevc", "hevx", "heim", "heis", "mif1", "msf1"];

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

/**
 * Names a file the service does not take, when it is a common kind.
 *
 * @param bytes The file (its first kilobyte is enough).
 * @returns A name such as `a HEIC image`, or undefined when unrecognised.
 *
 * @example
 * ```ts
 * describeUnsupported(new TextEncoder().encode('{"a":1}')); // "JSON text"
 * ```
 */
export function describeUnsupported(bytes: Uint8Array): string | undefined {
  const head = ascii(bytes, 0, Math.min(bytes.length, 1024));
  if (ascii(bytes, 4, 4) === "ftyp") {
    const brands = [];
    for (let at = 8; at + 4 <= Math.min(bytes.length, 64); at += 4) brands.push(ascii(bytes, at, 4));
    if (brands.some((b) => HEIC_BRANDS.includes(b))) return "a HEIC/HEIF image (the iPhone photo default)";
    return "an MP4-family file without a recognised brand";
  }
  if (head.startsWith("BM") && bytes.length >= 14) return "a BMP image";
  const text = head.replace(/^\uFEFF/, "").trimStart();
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(text)) return "an SVG image";
  if (/^<!doctype html|^<html/i.test(text)) return "an HTML page";
  if (text.startsWith("%PDF")) return "a PDF document";
  if (head.startsWith("PK\u0003\u0004")) return "a ZIP archive";
  if (head.startsWith("FORM") && ["AIFF", "AIFC"].includes(ascii(bytes, 8, 4))) return "an AIFF sound";
  if (head.startsWith("MThd")) return "a MIDI file (notes, not sound)";
  if (head.startsWith("8BPS")) return "a Photoshop image";
  if (/^[{[]/.test(text)) {
    try {
      JSON.parse(new TextDecoder().decode(bytes));
      return "JSON text";
    } catch {
      // Not JSON after all; fall through to plain text.
    }
  }
  const sample = bytes.subarray(0, 512);
  if (sample.length > 0 && sample.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b < 127))) {
    return "plain text";
  }
  return undefined;
}

/**
 * The 415 detail for bytes in no supported format.
 *
 * @param bytes The refused file.
 * @returns A sentence naming what it is (or its first bytes) and listing the supported formats.
 */
export function unsupportedFormatDetail(bytes: Uint8Array): string {
  const what = describeUnsupported(bytes);
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
  const found = what ? `this is ${what}` : `first bytes: ${head || "none"}`;
  return `Not a supported audio or image format (${found}). ${supportedFormatsText()}`;
}
