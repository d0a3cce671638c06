/**
 * Split assignment: whole groups to splits where a label has enough groups,
 * units (files) inside groups where it has not, class-balanced classify
 * splits, and held-out sources.
 *
 * Work is done per balance key (audio; images per domain, since photos and
 * drawings are evaluated apart) and label:
 * 1. items of held-out groups go to `heldout`;
 * 2. the classify counts are fixed for the key: the same per label, a share
 *    of the scarcest label's items (`classifyTrainShare`, `classifyTestShare`);
 *    labels with fewer than `minPerLabel` items there take no part;
 * 3. the rest of each label is shared between translation-train,
 *    translation-val and retrieval by `fractions`;
 * 4. groups are placed greedily (classify splits first, each taking the
 *    smallest group that fills it, then the others by largest deficit); if
 *    that leaves a split empty, the label falls back to placing units;
 * 5. classify splits are cut down to the common count, spreading the kept
 *    items over groups and units; the rest become `unused`.
 *
 * @module
 */
import type { Label } from "../../lib/labels.ts";
import type { Domain, Modality, Split } from "./manifest.ts";
import { createRandom, type Random } from "../shared/random.ts";

/** What the splitter needs to know about an item. */
export interface SplitCandidate {
  id: string;
  modality: Modality;
  label: Label;
  domain: Domain;
  group: string;
  unit: string;
  /** True for items of a source kept out for the held-out-by-source experiment. */
  heldout: boolean;
}

/** The split of one item. */
export interface SplitDecision {
  split: Split;
  splitBy: "group" | "file";
}

/** Options of {@link assignSplits}. */
export interface SplitOptions {
  /** Seed of every random choice. */
  seed: number | string;
  /** Classify-train count per label = this share of the scarcest label's items. @default 0.35 */
  classifyTrainShare?: number;
  /** Classify-test count per label = this share of the scarcest label's items. @default 0.25 */
  classifyTestShare?: number;
  /** Upper bound of the classify-train count per label. @default 300 */
  maxClassifyTrain?: number;
  /** Upper bound of the classify-test count per label. @default 150 */
  maxClassifyTest?: number;
  /**
   * Labels with fewer (non-held-out) items than this in a balance key get no
   * classify items there (they would force the common count to ~0); all their
   * items go to the translation and retrieval splits. @default 10
   */
  minPerLabel?: number;
  /** Shares of the remaining items. @default {"translation-train": 0.65, "translation-val": 0.1, retrieval: 0.25} */
  fractions?: Record<"translation-train" | "translation-val" | "retrieval", number>;
}

type Working = "translation-train" | "translation-val" | "retrieval" | "classify-train" | "classify-test";
const WORKING: readonly Working[] = [
  "classify-test",
  "classify-train",
  "translation-train",
  "translation-val",
  "retrieval",
];

/** The balance key of an item: audio as one, images per domain. */
export function balanceKey(item: Pick<SplitCandidate, "modality" | "domain">): string {
  return item.modality === "audio" ? "audio" : `image:${item.domain}`;
}

interface Block {
  name: string;
  items: SplitCandidate[];
}

function blocksOf(items: SplitCandidate[], by: "group" | "unit", random: Random): Block[] {
  const map = new Map<string, SplitCandidate[]>();
  for (const item of items) {
    const key = by === "group" ? item.group : `${item.group}\u0000${item.unit}`;
    const list = map.get(key);
    if (list) list.push(item);
    else map.set(key, [item]);
  }
  const names = random.shuffle([...map.keys()].sort());
  return names.map((name) => ({ name, items: map.get(name)! }));
}

/** Interleaves blocks so consecutive blocks come from different groups. */
function interleaveByGroup(blocks: Block[]): Block[] {
  const byGroup = new Map<string, Block[]>();
  for (const block of blocks) {
    const group = block.items[0]!.group;
    const list = byGroup.get(group);
    if (list) list.push(block);
    else byGroup.set(group, [block]);
  }
  const queues = [...byGroup.values()];
  const out: Block[] = [];
  for (let round = 0; out.length < blocks.length; round++) {
    for (const queue of queues) if (round < queue.length) out.push(queue[round]!);
  }
  return out;
}

function place(
  blocks: Block[],
  targets: Record<Working, number>,
  mode: "group" | "file",
): Map<Working, Block[]> {
  const placed = new Map<Working, Block[]>(WORKING.map((s) => [s, []]));
  const filled: Record<Working, number> = {
    "classify-test": 0,
    "classify-train": 0,
    "translation-train": 0,
    "translation-val": 0,
    retrieval: 0,
  };
  const remaining = mode === "group" ? [...blocks].sort((a, b) => b.items.length - a.items.length) : [...blocks];
  // Classify splits first: each takes the smallest block that fills it, so
  // little is cut away (and wasted) by the class balancing.
  for (const split of ["classify-test", "classify-train"] as const) {
    while (filled[split] < targets[split] && remaining.length > 1) {
      const need = targets[split] - filled[split];
      let pick = -1;
      if (mode === "group") {
        for (let i = 0; i < remaining.length; i++) {
          if (remaining[i]!.items.length >= need) pick = i; // sorted descending: last fitting = smallest
        }
        if (pick < 0) pick = 0;
      } else {
        pick = 0;
      }
      const [block] = remaining.splice(pick, 1);
      placed.get(split)!.push(block!);
      filled[split] += block!.items.length;
    }
  }
  const rest: Working[] = ["translation-train", "translation-val", "retrieval"];
  for (const block of remaining) {
    let best = rest[0]!;
    let bestScore = -Infinity;
    for (const split of rest) {
      const score = targets[split] <= 0 ? -Infinity : (targets[split] - filled[split]) / targets[split];
      if (score > bestScore) {
        bestScore = score;
        best = split;
      }
    }
    placed.get(best)!.push(block);
    filled[best] += block.items.length;
  }
  return placed;
}

function spread(items: SplitCandidate[], count: number, random: Random): SplitCandidate[] {
  // Round-robin over units (grouped by group) so the kept items cover as
  // many groups and files as possible.
  const blocks = interleaveByGroup(blocksOf(items, "unit", random)).map((b) => random.shuffle(b.items));
  const kept: SplitCandidate[] = [];
  for (let round = 0; kept.length < count; round++) {
    let any = false;
    for (const block of blocks) {
      if (round < block.length && kept.length < count) {
        kept.push(block[round]!);
        any = true;
      }
    }
    if (!any) break;
  }
  return kept;
}

/**
 * Assigns every candidate to a split.
 *
 * @param candidates Items (any order; ids unique).
 * @param options Seed and shares.
 * @returns Decision per item id.
 *
 * @example
 * ```ts
 * const decisions = assignSplits(candidates, { seed: 42 });
 * decisions.get("audio/corpus/...#0"); // { split: "translation-train", splitBy: "group" }
 * ```
 */
export function assignSplits(
  candidates: readonly SplitCandidate[],
  options: SplitOptions,
): Map<string, SplitDecision> {
  const trainShare = options.classifyTrainShare ?? 0.35;
  const testShare = options.classifyTestShare ?? 0.25;
  const fractions = options.fractions ?? { "translation-train": 0.65, "translation-val": 0.1, retrieval: 0.25 };
  const decisions = new Map<string, SplitDecision>();
  const byKey = new Map<string, Map<Label, SplitCandidate[]>>();
  for (const item of [...candidates].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    if (item.heldout) {
      decisions.set(item.id, { split: "heldout", splitBy: "group" });
      continue;
    }
    const key = balanceKey(item);
    let labels = byKey.get(key);
    if (!labels) byKey.set(key, labels = new Map());
    const list = labels.get(item.label);
    if (list) list.push(item);
    else labels.set(item.label, [item]);
  }
  for (const key of [...byKey.keys()].sort()) {
    const labels = byKey.get(key)!;
    const minPerLabel = options.minPerLabel ?? 10;
    const balanced = [...labels.values()].filter((l) => l.length >= minPerLabel);
    const scarcest = balanced.length > 0 ? Math.min(...balanced.map((l) => l.length)) : 0;
    const cTrain = Math.min(options.maxClassifyTrain ?? 300, Math.floor(scarcest * trainShare));
    const cTest = Math.min(options.maxClassifyTest ?? 150, Math.floor(scarcest * testShare));
    const classified = new Map<Label, { train: SplitCandidate[]; test: SplitCandidate[]; mode: "group" | "file" }>();
    for (const label of [...labels.keys()].sort()) {
      const items = labels.get(label)!;
      const random = createRandom(`${options.seed}:${key}:${label}`);
      const inClassify = items.length >= minPerLabel;
      const rest = items.length - (inClassify ? cTrain + cTest : 0);
      const targets: Record<Working, number> = {
        "classify-train": inClassify ? cTrain : 0,
        "classify-test": inClassify ? cTest : 0,
        "translation-train": rest * fractions["translation-train"],
        "translation-val": rest * fractions["translation-val"],
        retrieval: rest * fractions.retrieval,
      };
      const complete = (placed: Map<Working, Block[]>) =>
        WORKING.every((s) => targets[s] <= 0 || placed.get(s)!.length > 0) &&
        placed.get("classify-train")!.reduce((n, b) => n + b.items.length, 0) >= targets["classify-train"] &&
        placed.get("classify-test")!.reduce((n, b) => n + b.items.length, 0) >= targets["classify-test"];
      let mode: "group" | "file" = "group";
      let placed = place(blocksOf(items, "group", random), targets, "group");
      if (!complete(placed)) {
        mode = "file";
        placed = place(interleaveByGroup(blocksOf(items, "unit", random)), targets, "file");
      }
      for (const split of ["translation-train", "translation-val", "retrieval"] as const) {
        for (const block of placed.get(split)!) {
          for (const item of block.items) decisions.set(item.id, { split, splitBy: mode });
        }
      }
      if (!inClassify) continue;
      classified.set(label, {
        train: placed.get("classify-train")!.flatMap((b) => b.items),
        test: placed.get("classify-test")!.flatMap((b) => b.items),
        mode,
      });
    }
    // Balance: the common count is what every label actually reached.
    const nTrain = classified.size > 0 ? Math.min(...[...classified.values()].map((c) => c.train.length)) : 0;
    const nTest = classified.size > 0 ? Math.min(...[...classified.values()].map((c) => c.test.length)) : 0;
    for (const [label, c] of classified) {
      const random = createRandom(`${options.seed}:${key}:${label}:balance`);
      for (
        const [split, items, n] of [["classify-train", c.train, nTrain], ["classify-test", c.test, nTest]] as const
      ) {
        const kept = new Set(spread(items, n, random).map((i) => i.id));
        for (const item of items) {
          decisions.set(item.id, { split: kept.has(item.id) ? split : "unused", splitBy: c.mode });
        }
      }
    }
  }
  return decisions;
}
