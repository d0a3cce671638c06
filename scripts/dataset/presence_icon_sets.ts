/**
 * Icon sets used only by the presence stage (round 5), beside the dataset's
 * {@linkcode ICON_SETS}: more drawing styles for the drawing probe to learn
 * "instrument drawing or other icon" from, and more icon sets held out whole
 * in its evaluation. Their drawings are not in the dataset, so the joint
 * model never trained on them.
 *
 * Each instrument drawing was chosen by name and checked on a render, by the
 * rules of the dataset's allowlist (`scripts/dataset/drawing_allowlist.ts`):
 * keyboard-only "piano" icons (tdesign, ri `piano-fill`, tabler,
 * material-symbols, ic) and icon-park-solid's "trumpet" (a megaphone) are left
 * out; grand pianos are kept.
 *
 * @module
 */
import type { Label } from "../../lib/labels.ts";
import type { IconSet } from "./drawing_allowlist.ts";

/** An icon set of the presence stage, its reviewed instrument drawings and how its object icons are named. */
export interface PresenceIconSet extends IconSet {
  /** Suffix of the set's object icons (`ri` names them `home-line`, `fluent` `home-24-regular`). */
  objectSuffix: string;
  /** Reviewed instrument drawings, by label. */
  drawings: Partial<Record<Label, string[]>>;
}

/** The presence stage's own icon sets (each pinned in `scripts/data/drawings.ts`'s loaders). */
export const PRESENCE_ICON_SETS: readonly PresenceIconSet[] = [
  {
    prefix: "fluent",
    version: "1.2.60",
    license: "MIT",
    author: "Microsoft Corporation",
    objectSuffix: "-24-regular",
    drawings: { guitar: ["guitar-24-regular", "guitar-24-filled"] },
  },
  {
    prefix: "hugeicons",
    version: "1.2.35",
    license: "MIT",
    author: "Hugeicons",
    objectSuffix: "",
    drawings: { drums: ["drum"], guitar: ["guitar"] },
  },
  {
    prefix: "la",
    version: "1.2.1",
    license: "Apache-2.0",
    author: "Icons8 (Line Awesome)",
    objectSuffix: "",
    drawings: { drums: ["drum"], guitar: ["guitar"] },
  },
  {
    prefix: "ri",
    version: "1.2.10",
    license: "Apache-2.0",
    author: "Remix Design",
    objectSuffix: "-line",
    drawings: { piano: ["piano-grand-fill", "piano-grand-line"] },
  },
  {
    prefix: "streamline-ultimate",
    version: "1.2.2",
    license: "CC-BY-4.0",
    author: "Streamline",
    objectSuffix: "",
    drawings: {
      piano: ["instrument-classical-piano", "instrument-classical-piano-bold"],
      guitar: ["modern-music-electric-guitar", "modern-music-electric-guitar-bold"],
    },
  },
  {
    prefix: "tdesign",
    version: "1.2.19",
    license: "MIT",
    author: "TDesign (Tencent)",
    objectSuffix: "",
    drawings: { guitar: ["guitar", "guitar-filled"] },
  },
];
