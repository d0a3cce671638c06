/**
 * Runs a stack of equally shaped inputs through an encoder graph and
 * pools the named outputs over the stack (mean and maximum).
 *
 * @module
 */

import type { Session } from "../backend/onnx.ts";
import { type EncoderCard, hasSymbolicBatch } from "./card.ts";

/**
 * Largest batch per run. Per-item time barely improves past ~16 YAMNet
 * patches, while ONNX Runtime's arena keeps the largest batch's activations
 * for the life of the session: one 30 s clip as a single batch of 62 patches
 * left the process ~40 MB (WASM) to ~70 MB (native) larger than batches of
 * 16 (docs/performance.md).
 */
const MAX_BATCH = 16;

/**
 * Items per run: equal chunks of at most 16 (20 patches -> 2 x 10, not 16 + 4); 1 for a graph with a fixed batch.
 *
 * @param card The encoder card.
 * @param count Items in the input.
 * @returns The batch size.
 */
export function batchSize(card: EncoderCard, count: number): number {
  return hasSymbolicBatch(card) ? Math.ceil(count / Math.ceil(count / MAX_BATCH)) : 1;
}

/** Per-output pooled statistics of {@linkcode runPooled}. */
export interface PooledStats {
  /** Mean over the stack, per output name. */
  mean: Record<string, Float32Array>;
  /** Element-wise maximum over the stack, per output name (class scores: the loudest window). */
  max: Record<string, Float32Array>;
}

/**
 * Runs the graph over a stack of items in batches and pools every requested output by mean and by
 * element-wise maximum: a short note in a long clip moves a class's mean little but its maximum a lot,
 * which is what the presence stage needs to see.
 *
 * @param session Backend session of the card's graph.
 * @param card The encoder card (input name and batch dimension).
 * @param data `count` items, row-major, back to back.
 * @param count Number of items (>= 1).
 * @param itemDims Shape of one item, e.g. `[96, 64]`.
 * @param outputs Output names to pool, e.g. `["embedding", "scores"]`.
 * @returns Mean and maximum vector per output name.
 *
 * @example
 * ```ts
 * const { mean, max } = await runPooled(session, card, patches.data, patches.count, [96, 64], ["scores"]);
 * ```
 */
export async function runPooled(
  session: Session,
  card: EncoderCard,
  data: Float32Array,
  count: number,
  itemDims: readonly number[],
  outputs: readonly string[],
): Promise<PooledStats> {
  const itemSize = itemDims.reduce((a, b) => a * b, 1);
  if (!(count >= 1 && data.length === count * itemSize)) {
    throw new RangeError(
      `Cannot run ${card.name}: need count (${count}) >= 1 and data length (${data.length}) = count * ${itemSize}`,
    );
  }
  const batch = batchSize(card, count);
  const sums: Record<string, Float64Array> = {};
  const maxima: Record<string, Float32Array> = {};
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
      const max = maxima[name] ??= new Float32Array(width).fill(-Infinity);
      if (!Number.isInteger(width) || sum.length !== width) {
        throw new Error(
          `Encoder ${card.name} output "${name}" has ${tensor.data.length} values for ${n} inputs (dims ${tensor.dims})`,
        );
      }
      for (let i = 0; i < tensor.data.length; i++) {
        const v = tensor.data[i]!;
        sum[i % width] = sum[i % width]! + v;
        if (v > max[i % width]!) max[i % width] = v;
      }
    }
  }
  const mean: Record<string, Float32Array> = {};
  for (const name of outputs) mean[name] = Float32Array.from(sums[name]!, (v) => v / count);
  return { mean, max: maxima };
}
