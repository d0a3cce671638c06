/**
 * What decoding an upload will cost in memory, judged from its first bytes, so the HTTP layer can
 * count it against the in-flight memory budget (`lib/http/memory_budget.ts`) before the upload is
 * queued. Headers only, in plain JS: image sizes via {@linkcode declaredPixels}, WAV via
 * {@linkcode readWavHeader}, FLAC from its STREAMINFO block; anything else gets a conservative figure.
 *
 * The figures model the decoders in this folder:
 *
 * - Images: sharp copies the file into its WASM heap, then decodes `pixels x 4` bytes (RGBA) at the
 *   scale libvips loads it at. JPEG and WebP are shrunk on load by up to 8 per side when the crop is
 *   much larger than the encoder input (`decode_image.ts`), so a 6000x4500 photo costs ~2 MB rather
 *   than 108 MB.
 * - WAV (fast path): planar float at the file's own rate and channels, plus the 16 kHz mono copy.
 * - Other audio (ffmpeg): the file in ffmpeg's heap, its float output there, the copy read out of it
 *   and the planar copy (three times the float size), plus the 16 kHz mono copy.
 * - Videos (`mp4`, `mov`, `webm` that may hold a video track): their audio track as above, plus
 *   {@linkcode VIDEO_FRAMES_BYTES} for the frames.
 *
 * @module
 */
import { declaredPixels } from "./decode_image.ts";
import { sniff } from "./sniff.ts";
import { readWavHeader } from "./wav.ts";

/** Options of {@linkcode estimateDecodeBytes}. */
export interface DecodeCostOptions {
  /** Size of the whole upload when known (the head may be only its start). */
  totalBytes?: number;
  /** Audio beyond this many seconds is not decoded. @default {30} */
  maxAudioSeconds?: number;
  /** Images over this many pixels are refused before decoding. @default {40e6} */
  maxPixels?: number;
  /** Side of the encoder's input image, which decides JPEG/WebP shrink-on-load. @default {224} */
  imageSize?: number;
}

/** Rate and channels assumed for compressed audio whose header is not read here (48 kHz stereo). */
const ASSUMED_RATE = 48_000;
const ASSUMED_CHANNELS = 2;
/** Bytes per 16 kHz mono float second: what every audio input ends up as. */
const MONO_16K_SECOND = 16_000 * 4;

/**
 * What decoding a video's frames holds on top of its audio track: frames are decoded at full size in
 * ffmpeg's heap, by a core that the job after a large video starts afresh (`releaseGrownCore()` in
 * `ffmpeg.ts`; its heap starts at 32 MiB, 3840 px MPEG-4 frames grew it to 55 MiB). Measured in one isolate
 * (peak RSS over the decode): a 30 s MOV of 3840 px frames over 30 s of 48 kHz stereo, 82-88 MB; a 30 s
 * 48 kHz stereo FLAC alone, 29-34 MB. Counted for every video whatever its frame size, because the first
 * bytes of an MP4 rarely say it (its `moov` box is often at the end).
 */
export const VIDEO_FRAMES_BYTES = 56_000_000;

/**
 * Estimates the bytes decoding an upload will hold at its peak, from the upload's first bytes.
 *
 * @param head The start of the upload (a few hundred kB is enough for the headers read here).
 * @param options The upload's total size when known, and the decoding limits.
 * @returns Bytes; 0 for bytes in no supported format (refused with a 415 before decoding) or images
 *   over the pixel limit (refused with a 422 from the header).
 *
 * @example
 * ```ts
 * const bytes = await Deno.readFile("violin.wav");
 * estimateDecodeBytes(bytes.subarray(0, 65536), { totalBytes: bytes.length }); // e.g. 1_728_000 for 10 s mono 16 kHz
 * ```
 */
export function estimateDecodeBytes(head: Uint8Array, options: DecodeCostOptions = {}): number {
  const maxSeconds = options.maxAudioSeconds ?? 30;
  const maxPixels = options.maxPixels ?? 40e6;
  const total = options.totalBytes ?? head.length;
  const kind = sniff(head);
  if (!kind) return 0;
  if (kind.modality === "image") {
    const size = declaredPixels(head);
    if (!size) return total + maxPixels * 4;
    const pixels = size.width * size.height;
    if (pixels > maxPixels) return 0;
    const shrink = kind.format === "jpeg" || kind.format === "webp"
      ? shrinkOnLoad(size.width, size.height, options.imageSize ?? 224)
      : 1;
    return total + Math.ceil(pixels / (shrink * shrink)) * 4;
  }
  const unknownTotal = options.totalBytes === undefined;
  if (kind.format === "wav") {
    try {
      const header = readWavHeader(head);
      const frameBytes = header.channels * header.bitsPerSample / 8;
      const seconds = unknownTotal
        ? maxSeconds
        : Math.min(maxSeconds, Math.max(0, total - header.dataOffset) / frameBytes / header.sampleRate);
      // A fast-path WAV decodes in JS; other encodings go to ffmpeg (three float copies, below).
      const copies = header.encoding === 1 || header.encoding === 3 ? 1 : 3;
      return Math.ceil(seconds * (header.sampleRate * header.channels * 4 * copies + MONO_16K_SECOND));
    } catch {
      return 0; // refused with a 422 from the header
    }
  }
  const flac = kind.format === "flac" ? flacStreamInfo(head) : undefined;
  const rate = flac?.sampleRate ?? ASSUMED_RATE;
  const channels = flac?.channels ?? ASSUMED_CHANNELS;
  const seconds = flac?.seconds ? Math.min(maxSeconds, flac.seconds) : maxSeconds;
  const frames = mayHoldVideo(head, kind.format) ? VIDEO_FRAMES_BYTES : 0;
  return total + Math.ceil(seconds * (rate * channels * 4 * 3 + MONO_16K_SECOND)) + frames;
}

const ascii = (text: string) => new TextEncoder().encode(text);
const VIDE = ascii("vide");
const MOOV = ascii("moov");
const WEBM_VIDEO_CODEC = ascii("V_");
const WEBM_AUDIO_CODEC = ascii("A_");

/**
 * Whether a container may hold a video track, from its first bytes: yes when they show one (an MP4/MOV
 * handler of type `vide`, a WebM codec ID `V_...`) or do not reach the track list; no when the track list
 * is there without one (an M4A, or an MP4/WebM of sound only).
 */
function mayHoldVideo(head: Uint8Array, format: string): boolean {
  if (format === "mp4" || format === "mov") return contains(head, VIDE) || !contains(head, MOOV);
  if (format === "webm") return contains(head, WEBM_VIDEO_CODEC) || !contains(head, WEBM_AUDIO_CODEC);
  return false;
}

function contains(bytes: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= bytes.length; i++) {
    for (let j = 0; j < needle.length; j++) if (bytes[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

/**
 * The factor libvips shrinks a JPEG or WebP by while loading it, as sharp picks it for a resize of
 * the central crop to `size`: a power of two up to 8 that leaves at least a 2x reduction to the resize.
 * Rounded down, so the estimate errs on the large side.
 */
function shrinkOnLoad(width: number, height: number, size: number): number {
  const reduction = Math.min(width, height) * 0.875 / size;
  let shrink = 1;
  while (shrink < 8 && reduction >= shrink * 4) shrink *= 2;
  return shrink;
}

/** Rate, channels and length from a FLAC file's STREAMINFO block, or undefined when it is not there. */
function flacStreamInfo(bytes: Uint8Array): { sampleRate: number; channels: number; seconds: number } | undefined {
  // "fLaC", then a 4-byte block header (type 0 = STREAMINFO), then 34 bytes of STREAMINFO.
  if (bytes.length < 8 + 34 || (bytes[4]! & 0x7f) !== 0) return undefined;
  const s = bytes.subarray(8, 8 + 34);
  const sampleRate = (s[10]! << 12) | (s[11]! << 4) | (s[12]! >> 4);
  const channels = ((s[12]! >> 1) & 0x07) + 1;
  const totalSamples = (s[13]! & 0x0f) * 2 ** 32 + ((s[14]! << 24) >>> 0) + (s[15]! << 16) + (s[16]! << 8) + s[17]!;
  if (sampleRate === 0) return undefined;
  return { sampleRate, channels, seconds: totalSamples / sampleRate };
}
