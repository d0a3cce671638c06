/**
 * Runs a stack of equally shaped inputs through an encoder graph and
 * mean-pools the named outputs over the stack.
 *
 * @module
 */

import type { Session } from "../backend/onnx.ts";
import { type EncoderCard, hasSymbolicBatch } from "./card.ts";

/**
 * Feeds `count` inputs of `itemDims` (without batch) to the card's graph, all
 * at once when its batch dimension is symbolic, else one at a time, and
 * returns for each requested output the mean over the inputs of its
 * flattened per-item vector.
 *
 * @param session Backend session of the card's graph.
 * @param card The encoder card (input name and batch dimension).
 * @param data `count` items, row-major, back to back.
 * @param count Number of items (>= 1).
 * @param itemDims Shape of one item, e.g. `[96, 64]`.
 * @param outputs Output names to pool, e.g. `["embedding"]`.
 * @returns Mean vector per output name.
 *
 * @example
 * ```ts
 * const { embedding } = await runPooled(session, card, patches.data, patches.count, [96, 64], ["embedding"]);
 * ```
 */
export async function runPooled(
  session: Session,
  card: EncoderCard,
  data: Float32Array,
  count: number,
  itemDims: readonly number[],
  outputs: readonly string[],
): Promise<Record<string, Float32Array>> {
  const itemSize = itemDims.reduce((a, b) => a * b, 1);
  if (!(count >= 1 && data.length === count * itemSize)) {
    throw new RangeError(
      `Cannot run ${card.name}: need count (${count}) >= 1 and data length (${data.length}) = count * ${itemSize}`,
    );
  }
  const batch = hasSymbolicBatch(card) ? count : 1;
  const sums: Record<string, Float64Array> = {};
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    const result = await session.run({
      [card.input.name]: {
        data: data.subarray(start * itemSize, (start + n) * itemSize),
        dims: [n, ...itemDims],
      },
    }, outputs);
    for (const name of outputs) {
      const tensor = result[name];
      if (!tensor) {
        throw new Error(`Encoder ${card.name} returned no output "${name}" (got ${Object.keys(result).join(", ")})`);
      }
      const width = tensor.data.length / n;
      const sum = sums[name] ??= new Float64Array(width);
      if (!Number.isInteger(width) || sum.length !== width) {
        throw new Error(
          `Encoder ${card.name} output "${name}" has ${tensor.data.length} values for ${n} inputs (dims ${tensor.dims})`,
        );
      }
      for (let i = 0; i < tensor.data.length; i++) {
        sum[i % width] = sum[i % width]! + tensor.data[i]!;
      }
    }
  }
  const means: Record<string, Float32Array> = {};
  for (const name of outputs) means[name] = Float32Array.from(sums[name]!, (v) => v / count);
  return means;
}
