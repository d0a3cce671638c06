/**
 * Leave-one-source-out (LOSO) folds: which items each fold tests on and which sources it keeps out
 * of training. Written to `<work>/folds.json` by `deno task train` and read by `loso.py`.
 *
 * Rules (docs/training.md, "Leave-one-source-out"):
 * 1. One fold per audio source (every recording source and every sound bank) and per photo source.
 * 2. The drawing sources (`iconify:<set>`, a handful of icons each) are one fold, `drawings`.
 * 3. A fold keeps its own source out of training and every source the data card ties to it by
 *    shared samples ({@linkcode SAMPLE_FAMILIES}): holding out FluidR3Mono while training on
 *    MuseScore Lite, which copies many of its samples, would test on sounds seen in training.
 * 4. Only the `unused` split is left out (no embeddings); `classify-test` rows are never trained
 *    on (it stays the secondary, same-source number), so a fold's test set is every other item of
 *    its source and its training set is every non-`classify-test` item of the other sources.
 *
 * @module
 */
import type { ManifestItem } from "../dataset/manifest.ts";

/**
 * Sources that share recorded samples, held out together. From docs/data.md: `fluidr3mono` and
 * `musescore-lite` are "one split family" (MuseScore General Lite reuses FluidR3 samples).
 */
export const SAMPLE_FAMILIES: readonly (readonly string[])[] = [["fluidr3mono", "musescore-lite"]];

/** Name of the fold that holds out every drawing source together. */
export const DRAWINGS_FOLD = "drawings";

/** One leave-one-source-out fold. */
export interface LosoFold {
  /** The held-out source, or {@linkcode DRAWINGS_FOLD}. */
  name: string;
  modality: "audio" | "image";
  /** Domain of the test items (`recording`, `rendered`, `photo`, `drawing`). */
  domain: string;
  /** Sources whose items are tested on. */
  test: string[];
  /** Sources kept out of training (the tested ones and their sample family). */
  exclude: string[];
  /** Test items (original items only; augmented views are never tested on). */
  items: number;
  /** Labels present among the test items, sorted: the fold's macro-F1 is over these. */
  labels: string[];
}

/** The `folds.json` document. */
export interface LosoFolds {
  format: "amodal-loso-folds/1";
  /** Splits whose rows are never trained on. */
  neverTrain: string[];
  /** Splits with no embeddings (left out of training and testing). */
  notUsed: string[];
  folds: LosoFold[];
}

/** Splits never trained on by a fold or by the served model. */
export const NEVER_TRAIN = ["classify-test"];
/** Splits that are not embedded. */
export const NOT_USED = ["unused"];

/**
 * The leave-one-source-out folds of a dataset.
 *
 * @param items Dataset manifest items.
 * @returns The folds, audio first, each modality sorted by fold name.
 *
 * @example
 * ```ts
 * const { folds } = losoFolds(await readManifest("data/manifest.jsonl"));
 * folds.find((f) => f.name === "fluidr3mono")!.exclude; // ["fluidr3mono", "musescore-lite"]
 * ```
 */
export function losoFolds(items: readonly ManifestItem[]): LosoFolds {
  const byFold = new Map<
    string,
    { modality: "audio" | "image"; domain: string; sources: Set<string>; labels: Set<string>; items: number }
  >();
  for (const item of items) {
    if (NOT_USED.includes(item.split)) continue;
    const name = item.domain === "drawing" ? DRAWINGS_FOLD : item.source;
    let fold = byFold.get(name);
    if (!fold) {
      fold = { modality: item.modality, domain: item.domain, sources: new Set(), labels: new Set(), items: 0 };
      byFold.set(name, fold);
    }
    if (fold.modality !== item.modality || fold.domain !== item.domain) {
      throw new RangeError(
        `Cannot make LOSO folds: source ${name} has ${fold.modality}/${fold.domain} and ${item.modality}/${item.domain} items`,
      );
    }
    fold.sources.add(item.source);
    fold.labels.add(item.label);
    fold.items++;
  }
  const folds: LosoFold[] = [...byFold.entries()].map(([name, f]) => {
    const test = [...f.sources].sort();
    const exclude = new Set(test);
    for (const family of SAMPLE_FAMILIES) {
      if (family.some((s) => exclude.has(s))) { for (const s of family) if (byFold.has(s)) exclude.add(s); }
    }
    return {
      name,
      modality: f.modality,
      domain: f.domain,
      test,
      exclude: [...exclude].sort(),
      items: f.items,
      labels: [...f.labels].sort(),
    };
  });
  folds.sort((a, b) => a.modality.localeCompare(b.modality) || a.name.localeCompare(b.name));
  return { format: "amodal-loso-folds/1", neverTrain: [...NEVER_TRAIN], notUsed: [...NOT_USED], folds };
}
