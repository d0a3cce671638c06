/**
 * Media stage: sniff the uploaded bytes and decode them into 16 kHz mono samples or encoder-sized
 * RGB pixels. The one place that decides whether an upload is a sound or a picture.
 *
 * @module
 */
import { ProblemError } from "../errors.ts";
import { decodeAudio, type DecodedAudio } from "./decode_audio.ts";
import { type DecodedImage, decodeImage } from "./decode_image.ts";
import { type AudioFormat, type ImageFormat, sniff } from "./sniff.ts";
import { unsupportedFormatDetail } from "./formats.ts";

/** Which modality an input was recognised as. */
export type Modality = "audio" | "image";

/** A decoded upload. */
export type Media =
  | { modality: "audio"; format: AudioFormat; audio: DecodedAudio }
  | { modality: "image"; format: ImageFormat; image: DecodedImage };

/** Limits and output geometry of {@linkcode decodeMedia}. */
export interface DecodeMediaOptions {
  /** Decode at most this many seconds of audio. @default {30} */
  maxAudioSeconds?: number;
  /** Refuse images with more pixels than this. @default {40e6} */
  maxPixels?: number;
  /** Output side and central crop of images (the image encoder's card). @default {{size: 224, centralFraction: 0.875}} */
  image?: { size: number; centralFraction: number };
}

/**
 * Sniffs and decodes an upload.
 *
 * @param bytes The file as uploaded.
 * @param options Limits and image geometry.
 * @returns The decoded audio or image with its format.
 * @throws {ProblemError} 415 for bytes in no supported format; the decoders' 413/422 for files over a limit or
 *   corrupt.
 *
 * @example
 * ```ts
 * const media = await decodeMedia(await Deno.readFile("violin.flac"));
 * if (media.modality === "audio") media.audio.samples; // 16 kHz mono
 * ```
 */
export async function decodeMedia(bytes: Uint8Array, options: DecodeMediaOptions = {}): Promise<Media> {
  const kind = sniff(bytes);
  if (!kind) {
    throw new ProblemError(415, unsupportedFormatDetail(bytes));
  }
  if (kind.modality === "audio") {
    const audio = await decodeAudio(bytes, { format: kind.format, maxSeconds: options.maxAudioSeconds ?? 30 });
    return { modality: "audio", format: kind.format, audio };
  }
  const image = await decodeImage(bytes, { maxPixels: options.maxPixels ?? 40e6, ...options.image });
  return { modality: "image", format: kind.format, image };
}
