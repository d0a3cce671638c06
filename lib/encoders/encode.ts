/**
 * Encoder stage: runs an imported encoder graph on its input and pools each requested output over the
 * input's items (YAMNet's windows; one item for an image) by mean and by maximum.
 *
 * @module
 */
import type { Session } from "../backend/onnx.ts";
import type { EncoderCard } from "./card.ts";
import type { EncoderInput } from "../features/encoder_input.ts";
import { runPooled } from "./run_pooled.ts";
import { isFused, runFused } from "./run_fused.ts";

/** Outputs an encoder card can name (`card.outputs`). */
export type EncoderOutput = "embedding" | "scores";

/** Each requested output pooled over the items. */
export interface EncoderOutputs {
  /** Mean over the items: the clip embedding, the clip's class scores. */
  mean: Partial<Record<EncoderOutput, Float32Array>>;
  /** Element-wise maximum over the items (class scores: the loudest window). */
  max: Partial<Record<EncoderOutput, Float32Array>>;
  /** The joint-space vector, when the session runs a fused encoder + translator graph and it was asked for. */
  joint?: Float32Array;
}

/**
 * Runs the encoder and returns the clip-level outputs asked for.
 *
 * @param session The encoder's ONNX session (`lib/backend/onnx.ts`).
 * @param card Its card.
 * @param input From `audioInput()` / `imageInput()`.
 * @param outputs Which outputs to return. @default ["embedding"]
 * @param options `joint`: also return the joint-space vector when the graph has the translator fused in (`./fuse/`;
 *   a plain encoder graph returns none, and the caller translates).
 * @returns Each output pooled by mean and maximum; `mean.embedding` has the card's `dim` values.
 * @throws {TypeError} When the card lacks a requested output.
 *
 * @example
 * ```ts
 * const { mean } = await encode(session, card, imageInput(card, pixels));
 * mean.embedding; // 1280 values for mobilenet_v2
 * ```
 */
export async function encode(
  session: Session,
  card: EncoderCard,
  input: EncoderInput,
  outputs: readonly EncoderOutput[] = ["embedding"],
  options: { joint?: boolean } = {},
): Promise<EncoderOutputs> {
  for (const name of outputs) {
    if (!card.outputs[name]) throw new TypeError(`Encoder ${card.name} has no ${name} output`);
  }
  const pooled = isFused(session)
    ? await runFused(session, card, input.data, input.count, input.itemDims, outputs, options.joint === true)
    : await runPooled(session, card, input.data, input.count, input.itemDims, outputs);
  const embedding = pooled.mean.embedding;
  if (embedding && embedding.length !== card.outputs.embedding.dim) {
    throw new Error(`Encoder ${card.name} gave ${embedding.length} values, card says ${card.outputs.embedding.dim}`);
  }
  return pooled;
}
