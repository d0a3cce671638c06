/**
 * Runs a fused encoder + translator graph (`./fuse/fuse_translator.ts`) over an input's items: the same chunks
 * as `runPooled`, the embedding sum carried from chunk to chunk inside the graph, so the last run's
 * outputs are the clip's mean embedding and its joint-space vector.
 *
 * @module
 */
import type { Session, TensorData } from "../backend/onnx.ts";
import type { EncoderCard } from "./card.ts";
import { FUSED } from "./fuse/fuse_translator.ts";
import { batchSize } from "./run_pooled.ts";
import type { EncoderOutput, EncoderOutputs } from "./encode.ts";

/**
 * Whether a session runs a fused graph.
 *
 * @param session A session.
 * @returns `true` when it takes the carried embedding sum.
 */
export function isFused(session: Session): boolean {
  return session.inputNames.includes(FUSED.sumBefore);
}

/**
 * Runs the fused graph over `count` items and returns what `runPooled` would (mean embedding; mean and
 * maximum class scores), plus the joint-space vector when asked.
 *
 * @param session A fused graph's session.
 * @param card The encoder card.
 * @param data `count` items, row-major.
 * @param count Number of items (>= 1).
 * @param itemDims Shape of one item.
 * @param outputs `embedding` and/or `scores`.
 * @param joint Whether to compute the joint vector (the translator runs in the last chunk only).
 * @returns Pooled outputs and `joint` when asked.
 *
 * @example
 * ```ts
 * const { mean, joint } = await runFused(session, card, patches.data, patches.count, [96, 64], ["embedding"], true);
 * ```
 */
export async function runFused(
  session: Session,
  card: EncoderCard,
  data: Float32Array,
  count: number,
  itemDims: readonly number[],
  outputs: readonly EncoderOutput[],
  joint: boolean,
): Promise<EncoderOutputs> {
  const itemSize = itemDims.reduce((a, b) => a * b, 1);
  if (!(count >= 1 && data.length === count * itemSize)) {
    throw new RangeError(
      `Cannot run ${card.name}: need count (${count}) >= 1 and data length (${data.length}) = count * ${itemSize}`,
    );
  }
  const dim = card.outputs.embedding.dim;
  const batch = batchSize(card, count);
  const total: TensorData = { data: new Float32Array([count]), dims: [1] };
  let sum: TensorData = { data: new Float32Array(dim), dims: [1, dim] };
  let scoresSum: Float64Array | undefined;
  let scoresMax: Float32Array | undefined;
  let last: Record<string, TensorData> = {};
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    const final = start + n >= count;
    // Only what the answer reads: the joint vector and the mean come from the last chunk.
    const fetch: string[] = [FUSED.sum];
    if (final && outputs.includes("embedding")) fetch.push(FUSED.mean);
    if (final && joint) fetch.push(FUSED.joint);
    if (outputs.includes("scores")) fetch.push(FUSED.scoresSum, FUSED.scoresMax);
    last = await session.run({
      [card.input.name]: { data: data.subarray(start * itemSize, (start + n) * itemSize), dims: [n, ...itemDims] },
      [FUSED.sumBefore]: sum,
      [FUSED.itemsTotal]: total,
    }, fetch);
    sum = last[FUSED.sum]!;
    if (outputs.includes("scores")) {
      const s = last[FUSED.scoresSum]!.data, m = last[FUSED.scoresMax]!.data;
      scoresSum ??= new Float64Array(s.length);
      scoresMax ??= new Float32Array(m.length).fill(-Infinity);
      for (let i = 0; i < s.length; i++) {
        scoresSum[i] = scoresSum[i]! + s[i]!;
        if (m[i]! > scoresMax[i]!) scoresMax[i] = m[i]!;
      }
    }
  }
  const result: EncoderOutputs = { mean: {}, max: {} };
  if (outputs.includes("embedding")) result.mean.embedding = last[FUSED.mean]!.data;
  if (scoresSum && scoresMax) {
    result.mean.scores = Float32Array.from(scoresSum, (v) => v / count);
    result.max.scores = scoresMax;
  }
  if (joint) result.joint = last[FUSED.joint]!.data;
  return result;
}
