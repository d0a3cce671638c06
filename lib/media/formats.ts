/**
 * The formats the service takes, in words, and what a refused file looks like: one list, so every 415
 * names the same formats, and common files the service does not take (a HEIC photo from an iPhone, a
 * BMP, an SVG drawing, a JSON body) are called by their name instead of by their first bytes.
 *
 * @module
 */

/**
 * Supported formats by modality, as a client would name them. Keep in step with `sniff.ts` and the README table.
 * `video`: containers with a video track, whose audio track and frames are both classified (`video.ts`); the
 * same containers without one are audio, as listed there.
 */
export const SUPPORTED_FORMATS: { audio: readonly string[]; image: readonly string[]; video: readonly string[] } = {
  audio: [
    "WAV",
    "AIFF/AIFF-C",
    "MP3",
    "AAC (ADTS)",
    "M4A/MP4",
    "Ogg (Vorbis/Opus)",
    "FLAC",
    "WebM/Matroska",
  ],
  image: ["JPEG", "PNG", "WebP", "GIF", "AVIF", "HEIC/HEIF", "TIFF"],
  video: ["MP4", "MOV", "WebM/Matroska"],
};

/** The accepted audio formats in one phrase, for error messages. */
export const AUDIO_FORMAT_NAMES: string = SUPPORTED_FORMATS.audio.join(", ");
/** The accepted image formats in one phrase, for error messages. */
export const IMAGE_FORMAT_NAMES: string = SUPPORTED_FORMATS.image.join(", ");
/** The accepted video containers in one phrase, for error messages. */
export const VIDEO_FORMAT_NAMES: string = SUPPORTED_FORMATS.video.join(", ");

/**
 * The supported formats as one sentence.
 *
 * @returns e.g. `Supported: audio WAV, MP3, ...; images JPEG, PNG, ...; video MP4, MOV, WebM/Matroska ...`.
 */
export function supportedFormatsText(): string {
  return `Supported: audio ${AUDIO_FORMAT_NAMES}; images ${IMAGE_FORMAT_NAMES}; ` +
    `video ${VIDEO_FORMAT_NAMES} (the audio track and frames)`;
}

function ascii(bytes: Uint8Array, start: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

/**
 * Names a file the service does not take, when it is a common kind.
 *
 * @param bytes The file (its first kilobyte is enough).
 * @returns A name such as `BMP` or `JSON`, or undefined when unrecognised.
 *
 * @example
 * ```ts
 * describeUnsupported(new TextEncoder().encode('{"a":1}')); // "JSON"
 * ```
 */
export function describeUnsupported(bytes: Uint8Array): string | undefined {
  const head = ascii(bytes, 0, Math.min(bytes.length, 1024));
  // ISO-BMFF that sniff() did not take: an image or video brand without a decoder here (AVC-coded HEIF, ...).
  if (ascii(bytes, 4, 4) === "ftyp") return "an MP4-family file without a supported brand";
  // "BM", file size (4), two reserved 16-bit fields that writers leave at 0.
  if (head.startsWith("BM") && bytes.length >= 14 && bytes.subarray(6, 10).every((b) => b === 0)) return "BMP";
  const text = head.replace(/^\uFEFF/, "").trimStart();
  if (/^(<\?xml[^>]*>\s*)?(<!--[\s\S]*?-->\s*)*(<!DOCTYPE svg[^>]*>\s*)?<svg[\s>]/i.test(text)) return "SVG";
  if (/^<!doctype html|^<html/i.test(text)) return "HTML";
  if (text.startsWith("%PDF")) return "PDF";
  if (head.startsWith("PK\u0003\u0004")) return "a ZIP archive";
  if (head.startsWith("MThd")) return "MIDI (notes, not sound)";
  if (head.startsWith("8BPS")) return "a Photoshop image";
  if (/^[{[]/.test(text)) {
    try {
      JSON.parse(new TextDecoder().decode(bytes));
      return "JSON";
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
  const found = what ? `got ${what}` : `first bytes: ${head || "none"}`;
  return `Not a supported audio, image or video format (${found}). ${supportedFormatsText()}`;
}
