/**
 * Translation pairs (audio item, image item) for training the translator.
 *
 * The corpus has no videos, so a pair is an audio item and an image item of
 * the same label, both from the translation split, drawn again every epoch
 * (seeded). Real co-occurring pairs from videos come from
 * `scripts/dataset/video_pairs.ts` and can be mixed in by the trainer.
 *
 * @module
 */
import type { Label } from "../../lib/labels.ts";
import type { ManifestItem, Split } from "./manifest.ts";
import { createRandom } from "../shared/random.ts";

/** One audio/image pair of a label. */
export interface LabelPair {
  label: Label;
  audio: ManifestItem;
  image: ManifestItem;
}

/** Options of {@link sampleLabelPairs}. */
export interface PairOptions {
  /** Base seed; the epoch is mixed in. */
  seed: number | string;
  /** Epoch number (0, 1, ...): each epoch gets different pairs. */
  epoch: number;
  /** Split to draw from. @default "translation-train" */
  split?: Split;
  /**
   * Pairs per label. @default the label's larger side (every audio and every
   * image item of the label appears at least once)
   */
  perLabel?: number;
}

/**
 * Draws one epoch of label pairs. Within a label, both sides are walked in
 * freshly shuffled order (cycling the smaller side), so every item is used
 * about equally often; labels lacking either modality in the split give no
 * pairs. Output is shuffled across labels.
 *
 * @param items Manifest items (any splits; filtered here).
 * @param options Seed, epoch, split, pairs per label.
 * @returns The epoch's pairs.
 *
 * @example
 * ```ts
 * const items = await readManifest("data/manifest.jsonl");
 * for (let epoch = 0; epoch < 10; epoch++) {
 *   const pairs = sampleLabelPairs(items, { seed: 42, epoch });
 * }
 * ```
 */
export function sampleLabelPairs(items: readonly ManifestItem[], options: PairOptions): LabelPair[] {
  const split = options.split ?? "translation-train";
  const random = createRandom(`${options.seed}:pairs:${options.epoch}`);
  const audio = new Map<Label, ManifestItem[]>();
  const image = new Map<Label, ManifestItem[]>();
  const sorted = items.filter((i) => i.split === split).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  for (const item of sorted) {
    const side = item.modality === "audio" ? audio : image;
    const list = side.get(item.label);
    if (list) list.push(item);
    else side.set(item.label, [item]);
  }
  const pairs: LabelPair[] = [];
  for (const label of [...audio.keys()].sort()) {
    const a = random.shuffle(audio.get(label)!);
    const v = random.shuffle(image.get(label) ?? []);
    if (v.length === 0) continue;
    const count = options.perLabel ?? Math.max(a.length, v.length);
    for (let k = 0; k < count; k++) {
      pairs.push({ label, audio: a[k % a.length]!, image: v[k % v.length]! });
    }
  }
  return random.shuffle(pairs);
}
