/**
 * Encoder stage: runs an imported encoder graph on its input and mean-pools each requested output
 * over the input's items (YAMNet's windows; one item for an image).
 *
 * @module
 */
import type { Session } from "../backend/onnx.ts";
import type { EncoderCard } from "./card.ts";
import type { EncoderInput } from "../features/encoder_input.ts";
import { runPooled } from "./run_pooled.ts";

/** Outputs an encoder card can name (`card.outputs`). */
export type EncoderOutput = "embedding" | "scores";

/**
 * Runs the encoder and returns the clip-level outputs asked for.
 *
 * @param session The encoder's ONNX session (`lib/backend/onnx.ts`).
 * @param card Its card.
 * @param input From `audioInput()` / `imageInput()`.
 * @param outputs Which outputs to return. @default ["embedding"]
 * @returns Each output mean-pooled over the items; `embedding` has the card's `dim` values.
 * @throws {TypeError} When the card lacks a requested output.
 *
 * @example
 * ```ts
 * const { embedding } = await encode(session, card, imageInput(card, pixels));
 * ```
 */
export async function encode(
  session: Session,
  card: EncoderCard,
  input: EncoderInput,
  outputs: readonly EncoderOutput[] = ["embedding"],
): Promise<Partial<Record<EncoderOutput, Float32Array>>> {
  for (const name of outputs) {
    if (!card.outputs[name]) throw new TypeError(`Encoder ${card.name} has no ${name} output`);
  }
  const pooled = await runPooled(session, card, input.data, input.count, input.itemDims, outputs);
  const embedding = pooled.embedding;
  if (embedding && embedding.length !== card.outputs.embedding.dim) {
    throw new Error(`Encoder ${card.name} gave ${embedding.length} values, card says ${card.outputs.embedding.dim}`);
  }
  return pooled;
}
