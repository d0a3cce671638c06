/**
 * Features stage: decoded media -> the tensor an encoder reads, built only from the encoder's card
 * (`models/encoders.json`: window and hop, log-mel constants, input quantisation).
 *
 * @module
 */
import type { AudioPreprocess, EncoderCard, ImagePreprocess } from "../encoders/card.ts";
import { logMel } from "./log_mel.ts";
import { padWaveform, patchWindowCount } from "./pad_waveform.ts";
import { toPatches } from "./patches.ts";
import { toImageTensor } from "./image_tensor.ts";

/** `count` items of shape `itemDims`, row-major, ready for {@linkcode encode} in `lib/encoders/encode.ts`. */
export interface EncoderInput {
  /** `count * product(itemDims)` values. */
  data: Float32Array;
  /** Number of items (audio windows; 1 for an image). */
  count: number;
  /** Shape of one item, without the batch dimension. */
  itemDims: number[];
}

/**
 * The audio card's preprocessing, checked.
 *
 * @param card An encoder card.
 * @returns Its audio preprocessing constants.
 * @throws {TypeError} When the card is not an audio card with a known `preprocess.kind` and its constants.
 */
export function audioPreprocess(card: EncoderCard): AudioPreprocess {
  const p = card.preprocess as Partial<AudioPreprocess>;
  if (card.modality !== "audio" || (p.kind !== "log_mel_patches" && p.kind !== "waveform")) {
    throw new TypeError(`Encoder ${card.name} is not an audio encoder with a known preprocess.kind (${p.kind})`);
  }
  if (p.kind === "log_mel_patches" && p.logMel?.sampleRate !== p.sampleRate) {
    throw new TypeError(`Encoder ${card.name} lacks preprocess.logMel constants at ${p.sampleRate} Hz`);
  }
  return p as AudioPreprocess;
}

/**
 * Windows 16 kHz mono samples the way the audio encoder expects: log-mel patches, or raw windows for a
 * graph with its own front end.
 *
 * @param card The audio encoder's card.
 * @param samples Mono samples at `card.preprocess.sampleRate`.
 * @returns One item per analysis window (short clips are padded to one window).
 *
 * @example
 * ```ts
 * const input = audioInput(yamnetCard, decoded.samples); // { count: 3, itemDims: [96, 64], ... }
 * ```
 */
export function audioInput(card: EncoderCard, samples: Float32Array): EncoderInput {
  const p = audioPreprocess(card);
  const geometry = { window: p.windowSamples, hop: p.hopSamples };
  const padded = padWaveform(samples, geometry);
  if (p.kind === "waveform") {
    const count = patchWindowCount(padded.length, geometry);
    const data = new Float32Array(count * p.windowSamples);
    for (let i = 0; i < count; i++) {
      data.set(padded.subarray(i * p.hopSamples, i * p.hopSamples + p.windowSamples), i * p.windowSamples);
    }
    return { data, count, itemDims: [p.windowSamples] };
  }
  const patches = toPatches(logMel(padded, p.logMel!), {
    frames: p.patchFrames ?? 96,
    hop: p.patchHop ?? 48,
    offset: p.offset ?? 0,
  });
  return { data: patches.data, count: patches.count, itemDims: [patches.frames, patches.bands] };
}

/**
 * Turns decoded RGB pixels into the image encoder's input tensor.
 *
 * @param card The image encoder's card.
 * @param pixels `size * size * 3` RGB bytes (HWC), from `decodeImage`.
 * @returns One item of shape `[size, size, 3]`.
 * @throws {TypeError} For a card without image quantisation constants.
 * @throws {RangeError} For pixels of the wrong size.
 */
export function imageInput(card: EncoderCard, pixels: Uint8Array): EncoderInput {
  const p = card.preprocess as Partial<ImagePreprocess>;
  if (card.modality !== "image" || typeof p.scale !== "number" || typeof p.zeroPoint !== "number") {
    throw new TypeError(`Encoder ${card.name} is not an image encoder with preprocess.scale and zeroPoint`);
  }
  // NHWC without the batch: [size, size, 3].
  const itemDims = card.input.shape.slice(1).map(Number);
  const expected = itemDims.reduce((a, b) => a * b, 1);
  if (pixels.length !== expected) {
    throw new RangeError(
      `Cannot embed with ${card.name}: got ${pixels.length} pixel values, input [${itemDims}] needs ${expected}`,
    );
  }
  return { data: toImageTensor(pixels, { scale: p.scale, zeroPoint: p.zeroPoint }), count: 1, itemDims };
}
