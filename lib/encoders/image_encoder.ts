/**
 * Image encoders: preprocessed RGB pixels -> embedding (or ImageNet scores).
 *
 * @module
 */

import type { EncoderCard, ImagePreprocess } from "./card.ts";
import type { Session } from "../backend/onnx.ts";
import { runPooled } from "./run_pooled.ts";
import { toImageTensor } from "../features/image_tensor.ts";

function prepare(card: EncoderCard, pixels: Uint8Array): { data: Float32Array; itemDims: number[] } {
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
  return { data: toImageTensor(pixels, { scale: p.scale, zeroPoint: p.zeroPoint }), itemDims };
}

/**
 * Embeds one image: the decoder's `size x size x 3` RGB bytes are mapped to
 * the real values the quantised graph input represents
 * (`(q - zeroPoint) * scale` from the card) and run through the graph.
 *
 * @param session Backend session of the card's converted graph.
 * @param card The encoder's card.
 * @param pixels RGB bytes, row-major HWC, as `decodeImage` returns them.
 * @returns The embedding, `card.outputs.embedding.dim` values.
 *
 * @example
 * ```ts
 * const { pixels } = await decodeImage(bytes);
 * const embedding = await embedImage(session, card, pixels); // 1280 values for mobilenet_v2
 * ```
 */
export async function embedImage(
  session: Session,
  card: EncoderCard,
  pixels: Uint8Array,
): Promise<Float32Array> {
  const { data, itemDims } = prepare(card, pixels);
  const { embedding } = await runPooled(session, card, data, 1, itemDims, ["embedding"]);
  if (embedding!.length !== card.outputs.embedding.dim) {
    throw new Error(`Encoder ${card.name} gave ${embedding!.length} values, card says ${card.outputs.embedding.dim}`);
  }
  return embedding!;
}

/** What {@linkcode encodeImage} returns. */
export interface EncodedImage {
  /** The embedding, as {@linkcode embedImage} returns it. */
  embedding: Float32Array;
  /** The encoder's class scores (ImageNet softmax); absent when the card has no `scores` output. */
  scores?: Float32Array;
}

/**
 * The embedding and, from the same run, the encoder's class scores
 * (MobileNetV2: 1001 ImageNet classes, background first).
 *
 * @param session Backend session of the card's converted graph.
 * @param card The encoder's card.
 * @param pixels RGB bytes, row-major HWC.
 * @returns Embedding and scores.
 *
 * @example
 * ```ts
 * const { embedding, scores } = await encodeImage(session, card, pixels); // 1280 and 1001 values
 * ```
 */
export async function encodeImage(session: Session, card: EncoderCard, pixels: Uint8Array): Promise<EncodedImage> {
  const { data, itemDims } = prepare(card, pixels);
  const withScores = card.outputs.scores !== undefined && session.outputNames.includes("scores");
  const outputs = withScores ? ["embedding", "scores"] : ["embedding"];
  const result = await runPooled(session, card, data, 1, itemDims, outputs);
  const embedding = result.embedding!;
  if (embedding.length !== card.outputs.embedding.dim) {
    throw new Error(`Encoder ${card.name} gave ${embedding.length} values, card says ${card.outputs.embedding.dim}`);
  }
  return { embedding, ...(withScores ? { scores: result.scores! } : {}) };
}

/**
 * Class scores of one image (ImageNet, 1001 with background first for the
 * MobileNets), in the order of the card's `outputs.scores.labels` file.
 *
 * @param session Backend session of the card's converted graph.
 * @param card An image card with a `scores` output.
 * @param pixels RGB bytes, row-major HWC.
 * @returns One score per class.
 */
export async function imageScores(
  session: Session,
  card: EncoderCard,
  pixels: Uint8Array,
): Promise<Float32Array> {
  if (!card.outputs.scores) throw new TypeError(`Encoder ${card.name} has no scores output`);
  const { data, itemDims } = prepare(card, pixels);
  const { scores } = await runPooled(session, card, data, 1, itemDims, ["scores"]);
  return scores!;
}
