/**
 * Media type detection from magic bytes.
 *
 * The service never trusts `Content-Type` or file names (the corpus itself
 * holds PNGs named `.jpg`): the first bytes decide which decoder runs, and
 * anything unrecognised becomes a 415 at the route.
 *
 * @module
 */

/**
 * Audio formats {@linkcode sniff} recognises. PCM and float `wav` and `aiff`
 * are decoded by our own readers, everything else by ffmpeg. `mp4`, `webm`
 * and `mov` are containers that may hold video too (`lib/media/video.ts`
 * decides by their streams).
 */
export type AudioFormat = "wav" | "aiff" | "mp3" | "ogg" | "flac" | "m4a" | "aac" | "webm" | "mp4" | "mov";
/** Image formats {@linkcode sniff} recognises: `heic` is decoded by libheif-js, the rest by sharp. */
export type ImageFormat = "jpeg" | "png" | "webp" | "gif" | "avif" | "heic" | "tiff";

/** What {@linkcode sniff} found. */
export type Sniffed =
  | { modality: "audio"; format: AudioFormat }
  | { modality: "image"; format: ImageFormat };

/** ISO-BMFF brands of audio-only MP4 files (iTunes/Flash audio and audiobooks). */
const AUDIO_BRANDS = new Set(["M4A ", "M4B ", "M4P ", "F4A ", "F4B "]);
/** Brands of HEIF images that libheif in sharp decodes (AV1 only: no HEVC in the build). */
const AVIF_BRANDS = new Set(["avif", "avis"]);
/**
 * Brands of other HEIF files (HEVC stills and sequences, and the generic
 * MIAF/HEIF structure brands), decoded by libheif-js. Checked after the AVIF
 * brands, since AVIF files list `mif1`/`miaf` too.
 */
const HEIF_BRANDS = new Set(["heic", "heix", "heim", "heis", "hevc", "hevx", "mif1", "mif2", "msf1", "miaf"]);
/** Generic and video ISO-BMFF brands: ffmpeg decodes their audio track. */
const VIDEO_BRANDS = new Set([
  "isom",
  "iso2",
  "iso4",
  "iso5",
  "iso6",
  "mp41",
  "mp42",
  "mp71",
  "avc1",
  "dash",
  "M4V ",
  "M4VH",
  "M4VP",
  "F4V ",
  "f4v ",
  "mmp4",
  "MSNV",
  "NDAS",
  "qt  ",
  "3gp4",
  "3gp5",
  "3gp6",
  "3gp7",
  "3g2a",
  "3g2b",
  "3g2c",
]);

function ascii(bytes: Uint8Array, start: number, length: number): string {
  if (bytes.length < start + length) return "";
  return String.fromCharCode(...bytes.subarray(start, start + length));
}

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((b, i) => bytes[offset + i] === b);
}

/** Size of an ID3v2 tag from its header (syncsafe integer, plus footer if flagged). */
function id3Length(bytes: Uint8Array): number {
  if (bytes.length < 10) return bytes.length;
  const size = ((bytes[6]! & 0x7f) << 21) | ((bytes[7]! & 0x7f) << 14) |
    ((bytes[8]! & 0x7f) << 7) | (bytes[9]! & 0x7f);
  const footer = (bytes[5]! & 0x10) !== 0 ? 10 : 0;
  return 10 + size + footer;
}

/** An MPEG-1/2/2.5 Layer I-III frame header at `offset` with no reserved field values. */
function isMpegAudioFrame(bytes: Uint8Array, offset: number): boolean {
  if (bytes.length < offset + 4) return false;
  const b1 = bytes[offset + 1]!;
  const b2 = bytes[offset + 2]!;
  if (bytes[offset] !== 0xff || (b1 & 0xe0) !== 0xe0) return false;
  const version = (b1 >> 3) & 0x03; // 01 is reserved
  const layer = (b1 >> 1) & 0x03; // 00 is reserved (and means ADTS when sync is 12 bits)
  const bitrate = (b2 >> 4) & 0x0f; // 1111 is invalid
  const rate = (b2 >> 2) & 0x03; // 11 is reserved
  return version !== 1 && layer !== 0 && bitrate !== 0x0f && rate !== 3;
}

/** An ADTS (raw AAC) frame header at `offset`: 12-bit sync, layer 00, valid rate index. */
function isAdtsFrame(bytes: Uint8Array, offset: number): boolean {
  if (bytes.length < offset + 7) return false;
  const b1 = bytes[offset + 1]!;
  const rateIndex = (bytes[offset + 2]! >> 2) & 0x0f;
  return bytes[offset] === 0xff && (b1 & 0xf6) === 0xf0 && rateIndex < 13;
}

/** QuickTime atoms that classic `.mov` files (written before `ftyp` existed) start with. */
const QUICKTIME_ATOMS = new Set(["moov", "mdat", "wide"]);

/** A classic QuickTime file: a first atom of a known type whose size is 8 bytes or more. */
function isQuickTimeAtom(bytes: Uint8Array): boolean {
  if (bytes.length < 8 || !QUICKTIME_ATOMS.has(ascii(bytes, 4, 4))) return false;
  const size = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  return size === 0 || size === 1 || size >= 8; // 0: to the end of the file; 1: a 64-bit size follows
}

function sniffIsoBmff(bytes: Uint8Array): Sniffed | null {
  // box: size(4) "ftyp" major(4) minor(4) compatible(4 each) ...
  const boxSize = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(0);
  const end = Math.min(bytes.length, Math.max(16, boxSize));
  const brands = [ascii(bytes, 8, 4)];
  for (let at = 16; at + 4 <= end; at += 4) brands.push(ascii(bytes, at, 4));
  if (brands.some((b) => AVIF_BRANDS.has(b))) return { modality: "image", format: "avif" };
  if (brands.some((b) => HEIF_BRANDS.has(b))) return { modality: "image", format: "heic" };
  if (brands.some((b) => AUDIO_BRANDS.has(b))) return { modality: "audio", format: "m4a" };
  if (brands[0] === "qt  ") return { modality: "audio", format: "mov" };
  if (brands.some((b) => VIDEO_BRANDS.has(b))) return { modality: "audio", format: "mp4" };
  return null;
}

/**
 * Detects an audio or image format from the first bytes of a file.
 *
 * Containers that may hold video (MP4, MOV, WebM/Matroska) are reported as
 * audio formats `mp4`, `mov`, `webm`: whether they hold a video track takes
 * a look at their streams (`lib/media/video.ts`), not at their first bytes.
 * Returns `null` for anything else, which callers turn into a 415.
 *
 * @param bytes The file, or at least its first few hundred bytes (an ID3
 *   tag in front of MP3/FLAC data is skipped when the bytes after it are present).
 * @returns Modality and format, or `null` when unrecognised.
 *
 * @example
 * ```ts
 * sniff(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])); // { modality: "image", format: "png" }
 * ```
 */
export function sniff(bytes: Uint8Array): Sniffed | null {
  const head4 = ascii(bytes, 0, 4);
  if ((head4 === "RIFF" || head4 === "RF64" || head4 === "BW64") && ascii(bytes, 8, 4) === "WAVE") {
    return { modality: "audio", format: "wav" };
  }
  if (head4 === "FORM" && (ascii(bytes, 8, 4) === "AIFF" || ascii(bytes, 8, 4) === "AIFC")) {
    return { modality: "audio", format: "aiff" };
  }
  if (head4 === "RIFF" && ascii(bytes, 8, 4) === "WEBP") return { modality: "image", format: "webp" };
  if (head4 === "fLaC") return { modality: "audio", format: "flac" };
  if (head4 === "OggS") return { modality: "audio", format: "ogg" };
  if (startsWith(bytes, [0x1a, 0x45, 0xdf, 0xa3])) return { modality: "audio", format: "webm" };
  if (ascii(bytes, 4, 4) === "ftyp") return sniffIsoBmff(bytes);
  if (isQuickTimeAtom(bytes)) return { modality: "audio", format: "mov" };
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { modality: "image", format: "jpeg" };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return { modality: "image", format: "png" };
  }
  if (ascii(bytes, 0, 6) === "GIF87a" || ascii(bytes, 0, 6) === "GIF89a") {
    return { modality: "image", format: "gif" };
  }
  // Classic TIFF (42) and BigTIFF (43), little- and big-endian.
  if (
    startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a]) ||
    startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b])
  ) {
    return { modality: "image", format: "tiff" };
  }
  if (head4.startsWith("ID3")) {
    // ID3v2 tags also precede FLAC and ADTS streams; judge by what follows.
    const after = id3Length(bytes);
    if (ascii(bytes, after, 4) === "fLaC") return { modality: "audio", format: "flac" };
    if (isAdtsFrame(bytes, after)) return { modality: "audio", format: "aac" };
    return { modality: "audio", format: "mp3" };
  }
  if (isAdtsFrame(bytes, 0)) return { modality: "audio", format: "aac" };
  if (isMpegAudioFrame(bytes, 0)) return { modality: "audio", format: "mp3" };
  return null;
}
