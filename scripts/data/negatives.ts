/**
 * The no-instrument set in the dataset (issue 18): `deno task data` writes it beside the instrument
 * manifest as its own split, `data/negatives.jsonl` (one {@linkcode NegativeRow} per line, sorted by
 * `id`). Generated clips and images and the rendered icons are written under `data/negatives/`; the
 * real recordings and photos of `../shared/negatives` stay where they are (`root: "negatives"`).
 *
 * The set itself (what is in it, with its provenance) is `scripts/data/negative_set.ts`, which the
 * presence stage's evidence is extracted from too: the two are the same items under the same ids. No
 * row is in `manifest.jsonl`, so nothing of the joint model (translator, head, their splits) sees them.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { type NegativeItem, negativeSet } from "./negative_set.ts";
import { type BuildContext, cachedUnit } from "./common.ts";

/** The split every row of the set is in: no instrument model trains or is tested on it. */
export const NEGATIVE_SPLIT = "negative";

/** One line of `data/negatives.jsonl`. */
export interface NegativeRow {
  /** Stable unique id, the presence evidence's id too (`gen/...`, `negatives/...`, `icon/...`). */
  id: string;
  /** Folder `path` is relative to: the data folder, or `../shared/negatives`. */
  root: "data" | "negatives";
  /** File path relative to `root`, with `/` separators. */
  path: string;
  modality: "audio" | "image";
  /** Always `none`: there is no instrument. */
  label: "none";
  /** Always {@linkcode NEGATIVE_SPLIT}. */
  split: typeof NEGATIVE_SPLIT;
  /** `generated`, a `../shared/negatives` source, or `iconify:<set>`. */
  source: string;
  /** Split group: one per generator and level, recording session or photo collection, icon set. */
  group: string;
  /** What it is: `silence`, `speech`, `bird`, `icon`, ... */
  category: string;
  /** Provenance: the generator, the shared file's origin, or the icon package and name. */
  origin: string;
  /** Licence of the underlying material. */
  license: string;
}

/**
 * Writes the no-instrument set's files under `<data>/negatives/` and returns its rows. Each source is one
 * unit of work (`data/.units/negatives/`), so a re-run writes nothing again.
 *
 * @param ctx Build settings (`small`: a few items of every kind and source).
 * @param negativesDir The `../shared/negatives` folder.
 * @returns The rows, sorted by id.
 */
export async function buildNegatives(ctx: BuildContext, negativesDir: string): Promise<NegativeRow[]> {
  const items = await negativeSet(negativesDir, { small: ctx.small });
  const bySource = Map.groupBy(items, (item) => item.source);
  const rows: NegativeRow[] = [];
  let done = 0;
  for (const [source, of] of bySource) {
    rows.push(
      ...await cachedUnit<NegativeRow>(ctx, "negatives", `${ctx.small ? "small-" : ""}${source}`, async () => {
        const out: NegativeRow[] = [];
        for (const item of of) out.push(await negativeRow(ctx, item));
        return out;
      }),
    );
    ctx.progress("negatives", done += of.length, items.length);
  }
  return rows.sort((a, b) => a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** The row of one item, its file written under the data folder unless it is a shared file. */
async function negativeRow(ctx: BuildContext, item: NegativeItem): Promise<NegativeRow> {
  const { id, modality, source, group, category, origin, license } = item;
  const file = item.sharedPath
    ? { root: "negatives" as const, path: item.sharedPath }
    : { root: "data" as const, path: `negatives/${id}.${modality === "audio" ? "wav" : "png"}` };
  if (file.root === "data") {
    await Deno.mkdir(dirname(join(ctx.dataDir, file.path)), { recursive: true });
    await Deno.writeFile(join(ctx.dataDir, file.path), await item.bytes());
  }
  return { id, ...file, modality, label: "none", split: NEGATIVE_SPLIT, source, group, category, origin, license };
}

/**
 * The text of `negatives.jsonl`: one row per line, sorted by id.
 *
 * @param rows The rows.
 * @returns The file's text (ends with a newline when there are rows).
 */
export function formatNegatives(rows: readonly NegativeRow[]): string {
  return rows.map((row) => JSON.stringify(row) + "\n").join("");
}

/**
 * Reads `negatives.jsonl`.
 *
 * @param path The file.
 * @returns Its rows.
 */
export async function readNegatives(path: string): Promise<NegativeRow[]> {
  return (await Deno.readTextFile(path)).split("\n").filter(Boolean).map((line) => JSON.parse(line) as NegativeRow);
}
