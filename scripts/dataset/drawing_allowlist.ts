/**
 * The reviewed allowlist of icon/emoji drawings per label, from Iconify icon
 * sets on npm (`@iconify-json/<set>`).
 *
 * Name matching gives false positives (mdi "glass-flute" is a champagne
 * glass, game-icons "heart-organ" an anatomical heart, "oil-drum" a barrel),
 * and some names are ambiguous between labels (the "musical keyboard" emoji
 * could be a piano, an organ or a synthesizer), so every entry here was
 * chosen by name and then checked on a contact sheet of the renders
 * (`deno task data` writes `data/drawings/contact_sheet.png`). Entries that
 * did not show the instrument were removed (see docs/data.md): e.g.
 * icon-park-outline "trumpet" (a megaphone) and the keyboard-only "piano"
 * icons of mdi, qlementine and icon-park (as ambiguous as the emoji).
 *
 * @module
 */
import type { Label } from "../../lib/labels.ts";

/** An icon set package and the licence its icons are under. */
export interface IconSet {
  /** Iconify prefix = package `@iconify-json/<prefix>`. */
  prefix: string;
  /** Exact package version (also pinned in deno.json). */
  version: string;
  /** SPDX id of the icons' licence. */
  license: string;
  /** Who made the icons. */
  author: string;
}

/** The icon sets drawings come from. */
export const ICON_SETS: readonly IconSet[] = [
  { prefix: "emojione", version: "1.2.3", license: "CC-BY-4.0", author: "Emoji One" },
  { prefix: "emojione-monotone", version: "1.2.1", license: "CC-BY-4.0", author: "Emoji One" },
  { prefix: "emojione-v1", version: "1.2.3", license: "CC-BY-SA-4.0", author: "Emoji One" },
  { prefix: "fa6-solid", version: "1.2.4", license: "CC-BY-4.0", author: "Dave Gandy (Font Awesome)" },
  { prefix: "fluent-emoji-flat", version: "1.2.6", license: "MIT", author: "Microsoft Corporation" },
  { prefix: "fluent-emoji-high-contrast", version: "1.2.6", license: "MIT", author: "Microsoft Corporation" },
  { prefix: "fxemoji", version: "1.2.2", license: "Apache-2.0", author: "Mozilla" },
  { prefix: "game-icons", version: "1.2.4", license: "CC-BY-3.0", author: "GameIcons (game-icons.net)" },
  { prefix: "lucide", version: "1.2.137", license: "ISC", author: "Lucide Contributors" },
  { prefix: "mdi", version: "1.2.3", license: "Apache-2.0", author: "Pictogrammers" },
  { prefix: "mingcute", version: "1.2.8", license: "Apache-2.0", author: "MingCute Design" },
  { prefix: "noto", version: "1.2.9", license: "Apache-2.0", author: "Google Inc" },
  { prefix: "noto-v1", version: "1.2.5", license: "Apache-2.0", author: "Google Inc" },
  { prefix: "openmoji", version: "1.2.29", license: "CC-BY-SA-4.0", author: "OpenMoji" },
  { prefix: "ph", version: "1.2.2", license: "MIT", author: "Phosphor Icons" },
  { prefix: "qlementine-icons", version: "1.2.16", license: "MIT", author: "Olivier Cléro" },
  { prefix: "streamline-emojis", version: "1.2.4", license: "CC-BY-4.0", author: "Streamline" },
  { prefix: "streamline-freehand", version: "1.2.1", license: "CC-BY-4.0", author: "Streamline" },
  { prefix: "twemoji", version: "1.2.5", license: "CC-BY-4.0", author: "Twitter" },
];

const EMOJI_SETS = [
  "noto",
  "twemoji",
  "openmoji",
  "fluent-emoji-flat",
  "fluent-emoji-high-contrast",
  "emojione",
  "emojione-monotone",
  "emojione-v1",
  "noto-v1",
  "fxemoji",
  "streamline-emojis",
];

function emoji(name: string, sets: readonly string[] = EMOJI_SETS): string[] {
  return sets.map((set) => `${set}:${name}`);
}

/**
 * Allowed icons per label as `<prefix>:<name>`. Emoji names missing from a
 * set (not every set has every emoji) are skipped by the builder and reported.
 */
export const DRAWING_ALLOWLIST: Readonly<Record<Label, readonly string[]>> = {
  accordion: [...emoji("accordion"), "game-icons:accordion", "qlementine-icons:accordion-16"],
  banjo: [...emoji("banjo"), "game-icons:banjo", "qlementine-icons:banjo-16", "qlementine-icons:banjo-24"],
  cello: ["qlementine-icons:cello-16", "qlementine-icons:cello-24"],
  clarinet: ["game-icons:clarinet"],
  cymbals: [
    "qlementine-icons:cymbal-16",
    "qlementine-icons:cymbal-24",
    "qlementine-icons:hi-hat-16",
    "qlementine-icons:hi-hat-24",
  ],
  drums: [
    ...emoji("drum"),
    "game-icons:drum",
    "game-icons:drum-kit",
    "qlementine-icons:drumkit-16",
    "qlementine-icons:drumkit-24",
    "qlementine-icons:snare-16",
    "qlementine-icons:snare-24",
    "qlementine-icons:kick-16",
    "qlementine-icons:kick-24",
    "mingcute:drum-line",
    "fa6-solid:drum",
    "lucide:drum",
    "streamline-freehand:modern-music-drums",
  ],
  flute: [...emoji("flute"), "game-icons:flute"],
  guitar: [
    ...emoji("guitar"),
    "game-icons:guitar",
    "qlementine-icons:guitar-16",
    "qlementine-icons:guitar-24",
    "qlementine-icons:guitar-classical-24",
    "qlementine-icons:guitar-folk-24",
    "qlementine-icons:guitar-strat-24",
    "qlementine-icons:guitar-tele-24",
    "qlementine-icons:guitar-12-strings-24",
    "mdi:guitar-acoustic",
    "mdi:guitar-electric",
    "fa6-solid:guitar",
    "lucide:guitar",
    "ph:guitar",
    "mingcute:guitar-line",
  ],
  mandolin: ["qlementine-icons:mandolin-16", "qlementine-icons:mandolin-24"],
  organ: ["game-icons:pipe-organ"],
  piano: [
    "game-icons:grand-piano",
    "lucide:piano",
  ],
  saxophone: [
    ...emoji("saxophone"),
    "game-icons:saxophone",
    "qlementine-icons:saxophone-16",
    "qlementine-icons:saxophone-24",
    "mdi:saxophone",
    "streamline-freehand:instrument-saxophone",
  ],
  synthesizer: ["qlementine-icons:synthesizer-16", "qlementine-icons:synthesizer-24"],
  trombone: [...emoji("trombone"), "game-icons:trombone", "qlementine-icons:trombone-16"],
  trumpet: [
    ...emoji("trumpet"),
    "game-icons:trumpet",
    "qlementine-icons:trumpet-16",
    "qlementine-icons:trumpet-24",
    "mdi:trumpet",
  ],
  ukulele: ["qlementine-icons:ukulele-16", "qlementine-icons:ukulele-24"],
  violin: [
    ...emoji("violin"),
    "game-icons:violin",
    "qlementine-icons:violin-16",
    "qlementine-icons:violin-24",
    "mdi:violin",
  ],
  voice: [
    ...emoji("singer"),
    ...emoji("man-singer"),
    ...emoji("woman-singer"),
    "streamline-emojis:man-singer-1",
    "streamline-emojis:woman-singer-1",
    "game-icons:sing",
  ],
};
