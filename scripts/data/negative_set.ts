/**
 * The no-instrument set (issue 18): what the presence stage learns "no instrument" from, drawn from more
 * than one source so that no one recorder, photographer or drawing style stands for "nothing":
 *
 * - generated negatives (`generated_negatives.ts`): silence, noise floors, mains hum and buzz, clicks, whispers;
 *   plain colours, gradients, noise, tiny images;
 * - the real recordings and photos of `../shared/negatives` (its `manifest.csv`: source, group, origin,
 *   licence, category);
 * - non-instrument icons (objects, animals, food, vehicles, places) of the dataset's icon sets and of the
 *   presence stage's own (`scripts/dataset/presence_icon_sets.ts`).
 *
 * Every item carries its source, split group, category and provenance (origin and licence). Two readers:
 * `deno task data` writes the set into the dataset as its own split (`data/negatives.jsonl`,
 * `scripts/data/negatives.ts`), and `scripts/presence/extract.ts` runs it through the service's code path.
 *
 * @module
 */
import { join } from "node:path";
import { ICON_SETS, type IconSet } from "../dataset/drawing_allowlist.ts";
import { type IconifyJson, iconSvg, loadIconSet, renderPng } from "./drawings.ts";
import { readCsv } from "../shared/csv.ts";
import { createRandom } from "../shared/random.ts";
import { PRESENCE_ICON_SETS } from "../dataset/presence_icon_sets.ts";
import { generatedAudio, generatedImages } from "./generated_negatives.ts";

/** One item with no instrument. */
export interface NegativeItem {
  /** Stable id, shared by the dataset row and the presence evidence (`gen/...`, `negatives/...`, `icon/...`). */
  id: string;
  modality: "audio" | "image";
  /** `generated`, a `../shared/negatives` source, or `iconify:<set>`. */
  source: string;
  /** Split group: one per generator and level, recording session or photo collection, icon set. */
  group: string;
  /** What it is: `silence`, `speech`, `bird`, `icon`, ... */
  category: string;
  /** Provenance: the generator, the shared file's origin, or the icon package and name. */
  origin: string;
  /** Licence of the underlying material (SPDX id or the source's wording). */
  license: string;
  /** For files of `../shared/negatives`: the path inside it (the dataset refers to the file in place). */
  sharedPath?: string;
  /** The file's bytes (WAV, PNG, or the shared file as it is). */
  bytes: () => Promise<Uint8Array>;
}

/** Options of {@linkcode negativeSet}. */
export interface NegativeSetOptions {
  /** A few items of every kind and source (the small dataset build of the tests). @default false */
  small?: boolean;
}

/**
 * Non-instrument icons: everyday objects, animals, food, vehicles, places (no bells, horns, whistles,
 * microphones, headphones, speakers or radios, which are musical or sound-related). Names are Iconify
 * names across the sets (emoji sets use emoji names, e.g. `red-apple`; others `apple`); a set that
 * lacks a name skips it.
 */
export const OBJECT_ICONS = [
  "cat",
  "dog",
  "pizza",
  "house",
  "home",
  "automobile",
  "car",
  "deciduous-tree",
  "tree",
  "red-apple",
  "apple",
  "soccer-ball",
  "sun",
  "rocket",
  "bicycle",
  "bike",
  "laptop",
  "mobile-phone",
  "cellphone",
  "smartphone",
  "books",
  "book",
  "hamburger",
  "umbrella",
  "camera",
  "airplane",
  "plane",
  "fish",
  "bird",
  "key",
  "light-bulb",
  "lightbulb",
  "hammer",
  "scissors",
  "teddy-bear",
  "t-shirt",
  "shirt",
  "chair",
  "alarm-clock",
  "clock",
  "rose",
  "flower",
  "cloud",
  "star",
  "shopping-cart",
  "cart",
  "bus",
  "train",
  "pencil",
  "envelope",
  "mail",
  "tent",
  "cake",
  "birthday-cake",
  "coffee",
  "hot-beverage",
  "globe",
  "cat-face",
  "dog-face",
  "horse",
  "cow",
  "pig",
  "mouse",
  "rabbit",
  "bear",
  "lion",
  "tiger",
  "elephant",
  "monkey",
  "frog",
  "turtle",
  "snake",
  "spider",
  "butterfly",
  "bee",
  "honeybee",
  "ant",
  "snail",
  "banana",
  "grapes",
  "watermelon",
  "strawberry",
  "cherries",
  "carrot",
  "bread",
  "cheese",
  "egg",
  "cookie",
  "doughnut",
  "ice-cream",
  "taxi",
  "ship",
  "sailboat",
  "anchor",
  "truck",
  "tractor",
  "motorcycle",
  "fire-engine",
  "ambulance",
  "wrench",
  "axe",
  "lock",
  "gear",
  "magnet",
  "bomb",
  "gift",
  "balloon",
  "crown",
  "ring",
  "gem-stone",
  "glasses",
  "eyeglasses",
  "hat",
  "shoe",
  "sock",
  "dress",
  "scarf",
  "backpack",
  "handbag",
  "wallet",
  "coin",
  "money-bag",
  "calendar",
  "clipboard",
  "pushpin",
  "paperclip",
  "ruler",
  "trash",
  "wastebasket",
  "bed",
  "bathtub",
  "toilet",
  "door",
  "window",
  "couch-and-lamp",
  "lamp",
  "candle",
  "fire",
  "snowflake",
  "umbrella-with-rain-drops",
  "rainbow",
  "mountain",
  "volcano",
  "moon",
  "earth",
  "leaf",
  "cactus",
  "palm-tree",
  "mushroom",
  "shield",
  "sword",
  "bow-and-arrow",
  "flag",
  "trophy",
  "medal",
  "baseball",
  "basketball",
  "football",
  "tennis",
  "bowling",
  "puzzle",
  "robot",
  "alien",
  "ghost",
  "skull",
  "heart",
  "smile",
  "face",
  "grinning-face",
  "thumbs-up",
  "hand",
  "eye",
  "tooth",
  "pill",
  "syringe",
  "microscope",
  "telescope",
  "satellite",
  "computer",
  "keyboard",
  "printer",
  "battery",
  "plug",
  "television",
  "tv",
  "watch",
  "hourglass",
  "thermometer",
  "map",
  "compass",
  "bridge",
  "castle",
  "factory",
  "hospital",
  "school",
  "church",
  "stadium",
  "fountain",
];
/** Icons per set, drawn by a seeded shuffle of the names the set has: categories spread over sets. */
export const ICONS_PER_SET = 28;

/** Licence of what `generated_negatives.ts` makes: no third-party material goes into it. */
const GENERATED_LICENSE = "none (generated by this project, no third-party material)";

/**
 * Lists the no-instrument set.
 *
 * @param negativesDir The `../shared/negatives` folder (holds `manifest.csv`).
 * @param options `small`: a few items of every kind and source.
 * @returns Items in a fixed order: generated audio, generated images, shared files, icons.
 *
 * @example
 * ```ts
 * const items = await negativeSet("../shared/negatives");
 * items.filter((i) => i.category === "icon").length; // 599
 * ```
 */
export async function negativeSet(negativesDir: string, options: NegativeSetOptions = {}): Promise<NegativeItem[]> {
  const small = options.small ?? false;
  const generated = [...generatedAudio(), ...generatedImages()].map((g) => ({
    ...g,
    source: "generated",
    origin: `generated:${g.id} (scripts/data/generated_negatives.ts)`,
    license: GENERATED_LICENSE,
  }));
  let shared = readCsv(join(negativesDir, "manifest.csv"));
  if (small) shared = firstOfEach(shared, (r) => `${r.modality} ${r.source}`);
  return [
    ...(small ? firstOfEach(generated, (g) => g.group) : generated),
    ...shared.map((r) => ({
      id: `negatives/${r.path}`,
      modality: r.modality as NegativeItem["modality"],
      source: r.source!,
      group: r.group!,
      category: r.category!,
      origin: r.origin!,
      license: r.license!,
      sharedPath: r.path!,
      bytes: () => Deno.readFile(join(negativesDir, r.path!)),
    })),
    ...await objectIcons(small ? 2 : ICONS_PER_SET, small ? ICON_SETS.slice(0, 2) : undefined),
  ];
}

/** The first item of each key, in order. */
function firstOfEach<T>(items: readonly T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => {
    const k = key(item);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** Up to `perSet` object icons of each icon set, drawn by a seeded shuffle of the names the set has. */
async function objectIcons(perSet: number, only?: readonly IconSet[]): Promise<NegativeItem[]> {
  const sets = only?.map((s) => ({ ...s, objectSuffix: "" })) ??
    [...ICON_SETS.map((s) => ({ ...s, objectSuffix: "" })), ...PRESENCE_ICON_SETS];
  const items: NegativeItem[] = [];
  for (const { prefix, version, author, license, objectSuffix } of sets) {
    const iconSet: IconifyJson = await loadIconSet(prefix);
    const have = OBJECT_ICONS.map((name) => name + objectSuffix).filter((name) => iconSvg(iconSet, name));
    for (const name of createRandom(`presence:icons:${prefix}`).shuffle(have).slice(0, perSet)) {
      const svg = iconSvg(iconSet, name)!;
      items.push({
        id: `icon/${prefix}/${name}`,
        modality: "image",
        source: `iconify:${prefix}`,
        // One group per icon set: a set's style is what a split must not share.
        group: `icon-${prefix}`,
        category: "icon",
        origin: `npm:@iconify-json/${prefix}@${version}#${name} (${author})`,
        license,
        bytes: () => renderPng(svg),
      });
    }
  }
  return items;
}
