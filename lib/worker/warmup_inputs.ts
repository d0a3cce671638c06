/**
 * Tiny valid inputs used to warm sessions and decoders at start (`AMODAL_WARMUP`).
 *
 * @module
 */
import { encodeWav } from "../media/encode_wav.ts";
import { encodeAudio } from "../media/ffmpeg.ts";
import type { Media } from "../media/decode_media.ts";
import type { Modality } from "../pipeline.ts";
import { keepAlive, loadSharp } from "../media/sharp.ts";

/**
 * Inputs that exercise one modality's path in an inference worker. Audio: one second of a 440 Hz tone as WAV (at
 * 44.1 kHz, so the resampler's filter is built) and as FLAC (so ffmpeg.wasm is loaded). Image: a grey picture
 * already decoded to encoder-sized pixels, as the main isolate hands images over, so warming a worker never loads
 * sharp there.
 *
 * @param modality Which path to warm.
 * @param imageSize Side of the image encoder's input (its card's `preprocess.size`).
 * @returns Inputs for {@linkcode Pipeline.warmUp}.
 */
export async function warmupInputs(modality: Modality, imageSize = 224): Promise<(Uint8Array | Media)[]> {
  if (modality === "image") {
    const pixels = new Uint8Array(imageSize * imageSize * 3).fill(128);
    return [{ modality: "image", format: "jpeg", image: { pixels, width: imageSize, height: imageSize } }];
  }
  const rate = 44100;
  const samples = new Float32Array(rate).map((_, i) => 0.1 * Math.sin((2 * Math.PI * 440 * i) / rate));
  return [encodeWav(samples, rate), await encodeAudio(samples, rate, "flac")];
}

/**
 * A small JPEG made by sharp itself, to warm sharp in the isolate that decodes images (loading it, its threads and
 * the decode path).
 *
 * @returns The JPEG file.
 */
export async function warmupImageFile(): Promise<Uint8Array> {
  const sharp = await loadSharp();
  const jpeg = await keepAlive(
    sharp({ create: { width: 64, height: 48, channels: 3, background: "#808080" } }).jpeg().toBuffer(),
  );
  return new Uint8Array(jpeg);
}
