/**
 * The dataset manifest: `data/manifest.jsonl`, written by `deno task data`
 * (`scripts/data/build.ts`) and read by training.
 *
 * One JSON object per line ({@link ManifestItem}), sorted by `id`. Audio
 * items are 1 s, 16 kHz, mono, 16-bit PCM WAV clips generated under the data
 * folder (`root: "data"`); photos stay where they are in the read-only corpus
 * (`root: "corpus"`, path relative to the corpus folder); drawings are PNGs
 * generated under the data folder.
 *
 * @module
 */
import { isAbsolute, join } from "node:path";
import { type Label, LABELS } from "../../lib/labels.ts";

/** Which folder an item's `path` is relative to. */
export type ItemRoot = "data" | "corpus";

/** Kind of input an item is. */
export type Modality = "audio" | "image";

/**
 * Where an item comes from: real `recording`s and `photo`s from the corpus,
 * `rendered` audio from sample libraries (soundfonts, drum kits), `drawing`s
 * rendered from icon sets. Metrics are reported per domain.
 */
export type Domain = "recording" | "rendered" | "photo" | "drawing";

/**
 * Splits, as in Wu, Fuentes & Bello (2021):
 * - `translation-train`: trains the audio<->image translator (pairs are
 *   sampled from it by label, see `scripts/dataset/pairs.ts`);
 * - `translation-val`: early stopping for the translator;
 * - `retrieval`: evaluates the translator by cross-modal retrieval;
 * - `classify-train` / `classify-test`: class-balanced (same count per label,
 *   per modality for audio and per modality + domain for images, over the
 *   labels that have items there);
 * - `heldout`: whole sources kept out of every other split for the
 *   "held out by source" experiment;
 * - `unused`: items of a group already placed in a classify split that the
 *   class balancing did not keep (never use them elsewhere: their group is in
 *   that split).
 */
export const SPLITS = [
  "translation-train",
  "translation-val",
  "retrieval",
  "classify-train",
  "classify-test",
  "heldout",
  "unused",
] as const;

/** One split name. */
export type Split = typeof SPLITS[number];

/** One line of `data/manifest.jsonl`. */
export interface ManifestItem {
  /** Stable unique id (also the sort key of the file). */
  id: string;
  /** Folder `path` is relative to: the data folder or the corpus folder. */
  root: ItemRoot;
  /** File path relative to `root`, with `/` separators. */
  path: string;
  /** `audio` (WAV clip) or `image` (JPEG/PNG file). */
  modality: Modality;
  /** One of the 18 labels. */
  label: Label;
  /** The split the item belongs to. */
  split: Split;
  /** Real or synthetic, audio or image kind. */
  domain: Domain;
  /**
   * Source collection: a corpus source (`gtown`, `gpiosenka`, ...), a
   * soundfont (`fluidr3`, `musescore`, `timgm6mb`), `hydrogen`, or
   * `iconify:<set>`.
   */
  source: string;
  /**
   * Split group: items sharing a recording session, soundfont preset family,
   * drum kit, photo collection or icon set. A group lies in one split unless
   * `splitBy` is `file`.
   */
  group: string;
  /**
   * The indivisible unit inside the group (one corpus file, one render, one
   * icon): all items of a unit are always in the same split.
   */
  unit: string;
  /**
   * `group` when whole groups were assigned to splits; `file` when this
   * (modality, label) had too few groups and its units were split inside
   * their groups (the data card lists these).
   */
  splitBy: "group" | "file";
  /** Provenance: corpus origin, `sf2:<file>#<bank>:<program>`, kit file, icon id. */
  origin: string;
  /** Licence of the underlying material (SPDX id or the source's wording). */
  license: string;
  /** Audio only: where the clip starts in its source recording or render, seconds. */
  startSeconds?: number;
  /** Audio only: clip length in seconds (about 1). */
  durationSeconds?: number;
  /** Rendered audio only: what was rendered (`note`, `chord`, `strum`, `hit`, with/without reverb). */
  render?: string;
}

/** Folders that item paths are relative to. */
export interface DatasetRoots {
  /** The generated data folder (holds `manifest.jsonl`). */
  dataDir: string;
  /** The read-only corpus folder. */
  corpusDir: string;
}

/**
 * Absolute path of an item's file.
 *
 * @param item A manifest item.
 * @param roots The data and corpus folders.
 * @returns `roots.dataDir` or `roots.corpusDir` joined with `item.path`.
 *
 * @example
 * ```ts
 * itemPath({ root: "corpus", path: "images/jray/banjo/1.jpg" } as ManifestItem,
 *   { dataDir: "data", corpusDir: "../shared/corpus" }); // "../shared/corpus/images/jray/banjo/1.jpg"
 * ```
 */
export function itemPath(item: Pick<ManifestItem, "root" | "path">, roots: DatasetRoots): string {
  if (isAbsolute(item.path)) throw new TypeError(`Cannot resolve item path: "${item.path}" must be relative`);
  return join(item.root === "data" ? roots.dataDir : roots.corpusDir, item.path);
}

const MODALITIES = new Set(["audio", "image"]);
const DOMAINS = new Set(["recording", "rendered", "photo", "drawing"]);
const LABEL_SET = new Set<string>(LABELS);
const SPLIT_SET = new Set<string>(SPLITS);

/**
 * Parses manifest text (JSON lines) and checks every field's type and value.
 *
 * @param text Contents of `manifest.jsonl`.
 * @returns The items in file order.
 * @throws {SyntaxError} when a line is not valid JSON or a field is missing or wrong.
 *
 * @example
 * ```ts
 * const items = parseManifest(await Deno.readTextFile("data/manifest.jsonl"));
 * const train = items.filter((i) => i.split === "translation-train");
 * ```
 */
export function parseManifest(text: string): ManifestItem[] {
  const items: ManifestItem[] = [];
  const lines = text.split("\n");
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === "") continue;
    const where = `manifest line ${n + 1}`;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new SyntaxError(`Cannot parse ${where}: ${(error as Error).message}`);
    }
    const item = value as Record<string, unknown>;
    for (const key of ["id", "root", "path", "modality", "label", "split", "domain", "source", "group", "unit"]) {
      if (typeof item[key] !== "string") throw new SyntaxError(`Cannot read ${where}: "${key}" must be a string`);
    }
    const check = (key: string, allowed: Set<string>) => {
      if (!allowed.has(item[key] as string)) {
        throw new SyntaxError(`Cannot read ${where}: ${key} "${item[key]}" is not one of ${[...allowed].join(", ")}`);
      }
    };
    check("root", new Set(["data", "corpus"]));
    check("modality", MODALITIES);
    check("label", LABEL_SET);
    check("split", SPLIT_SET);
    check("domain", DOMAINS);
    check("splitBy", new Set(["group", "file"]));
    items.push(item as unknown as ManifestItem);
  }
  return items;
}

/**
 * Reads and validates a manifest file.
 *
 * @param path Path of `manifest.jsonl`.
 * @returns The items in file order.
 *
 * @example
 * ```ts
 * const items = await readManifest("data/manifest.jsonl");
 * ```
 */
export async function readManifest(path: string): Promise<ManifestItem[]> {
  return parseManifest(await Deno.readTextFile(path));
}

/**
 * Serialises items as manifest text: sorted by id, one object per line, keys
 * in a fixed order so identical datasets give identical bytes.
 *
 * @param items Items in any order.
 * @returns The text of `manifest.jsonl` (ends with a newline).
 *
 * @example
 * ```ts
 * await Deno.writeTextFile("data/manifest.jsonl", formatManifest(items));
 * ```
 */
export function formatManifest(items: readonly ManifestItem[]): string {
  const keys: (keyof ManifestItem)[] = [
    "id",
    "root",
    "path",
    "modality",
    "label",
    "split",
    "domain",
    "source",
    "group",
    "unit",
    "splitBy",
    "origin",
    "license",
    "startSeconds",
    "durationSeconds",
    "render",
  ];
  const sorted = [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return sorted.map((item) => {
    const ordered: Record<string, unknown> = {};
    for (const key of keys) if (item[key] !== undefined) ordered[key] = item[key];
    return JSON.stringify(ordered);
  }).join("\n") + (sorted.length > 0 ? "\n" : "");
}
