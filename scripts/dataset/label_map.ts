/**
 * The reviewed mapping from sample-library sounds to the 18 labels: General
 * MIDI programs (bank 0) with the note range each instrument really has,
 * GM percussion keys (channel 10) for drums vs cymbals, and Hydrogen drum-kit
 * instrument names.
 *
 * Mandolin and ukulele are not GM programs. The soundfonts carry GS
 * variation presets called "Mandolin" (bank 16, program 25) and "Ukulele"
 * (bank 8, program 24), but they play guitar samples, so they are never used:
 * every melodic entry here is bank 0, and `tests/scripts/dataset/label_map_test.ts`
 * checks each entry's preset name in the installed soundfonts.
 *
 * @module
 */
import type { Label } from "../../lib/labels.ts";

/** How a program is played when rendered. */
export type Playing = "sustained" | "plucked" | "keyboard";

/** One GM program mapped to a label. */
export interface ProgramMapping {
  /** GM program number 0-127 (bank 0). */
  program: number;
  /** Label the program's sound belongs to. */
  label: Label;
  /** GM name, for the data card. */
  name: string;
  /** Lowest MIDI note rendered (the instrument's real range). */
  low: number;
  /** Highest MIDI note rendered. */
  high: number;
  /** Plucked and keyboard instruments also get chords; plucked ones get strums. */
  playing: Playing;
}

/** The reviewed GM program table (bank 0 only). */
export const GM_PROGRAMS: readonly ProgramMapping[] = [
  { program: 0, label: "piano", name: "Acoustic Grand Piano", low: 21, high: 108, playing: "keyboard" },
  { program: 1, label: "piano", name: "Bright Acoustic Piano", low: 21, high: 108, playing: "keyboard" },
  { program: 2, label: "piano", name: "Electric Grand Piano", low: 28, high: 103, playing: "keyboard" },
  { program: 3, label: "piano", name: "Honky-tonk Piano", low: 28, high: 103, playing: "keyboard" },
  { program: 4, label: "piano", name: "Electric Piano 1", low: 28, high: 103, playing: "keyboard" },
  { program: 5, label: "piano", name: "Electric Piano 2", low: 28, high: 103, playing: "keyboard" },
  { program: 16, label: "organ", name: "Drawbar Organ", low: 36, high: 96, playing: "keyboard" },
  { program: 17, label: "organ", name: "Percussive Organ", low: 36, high: 96, playing: "keyboard" },
  { program: 18, label: "organ", name: "Rock Organ", low: 36, high: 96, playing: "keyboard" },
  { program: 19, label: "organ", name: "Church Organ", low: 24, high: 96, playing: "keyboard" },
  { program: 20, label: "organ", name: "Reed Organ", low: 36, high: 96, playing: "keyboard" },
  { program: 21, label: "accordion", name: "Accordion", low: 41, high: 93, playing: "keyboard" },
  { program: 23, label: "accordion", name: "Tango Accordion (bandoneon)", low: 41, high: 88, playing: "keyboard" },
  { program: 24, label: "guitar", name: "Acoustic Guitar (nylon)", low: 40, high: 83, playing: "plucked" },
  { program: 25, label: "guitar", name: "Acoustic Guitar (steel)", low: 40, high: 84, playing: "plucked" },
  { program: 26, label: "guitar", name: "Electric Guitar (jazz)", low: 40, high: 86, playing: "plucked" },
  { program: 27, label: "guitar", name: "Electric Guitar (clean)", low: 40, high: 86, playing: "plucked" },
  { program: 28, label: "guitar", name: "Electric Guitar (muted)", low: 40, high: 81, playing: "plucked" },
  { program: 29, label: "guitar", name: "Overdriven Guitar", low: 40, high: 86, playing: "plucked" },
  { program: 30, label: "guitar", name: "Distortion Guitar", low: 40, high: 86, playing: "plucked" },
  { program: 40, label: "violin", name: "Violin", low: 55, high: 100, playing: "sustained" },
  { program: 42, label: "cello", name: "Cello", low: 36, high: 76, playing: "sustained" },
  { program: 52, label: "voice", name: "Choir Aahs", low: 45, high: 81, playing: "sustained" },
  { program: 53, label: "voice", name: "Voice Oohs", low: 45, high: 81, playing: "sustained" },
  { program: 56, label: "trumpet", name: "Trumpet", low: 54, high: 84, playing: "sustained" },
  { program: 57, label: "trombone", name: "Trombone", low: 40, high: 72, playing: "sustained" },
  { program: 59, label: "trumpet", name: "Muted Trumpet", low: 54, high: 82, playing: "sustained" },
  { program: 64, label: "saxophone", name: "Soprano Sax", low: 56, high: 87, playing: "sustained" },
  { program: 65, label: "saxophone", name: "Alto Sax", low: 49, high: 81, playing: "sustained" },
  { program: 66, label: "saxophone", name: "Tenor Sax", low: 44, high: 76, playing: "sustained" },
  { program: 67, label: "saxophone", name: "Baritone Sax", low: 36, high: 69, playing: "sustained" },
  { program: 71, label: "clarinet", name: "Clarinet", low: 50, high: 91, playing: "sustained" },
  { program: 73, label: "flute", name: "Flute", low: 60, high: 96, playing: "sustained" },
  ...[
    "Lead 1 (square)",
    "Lead 2 (sawtooth)",
    "Lead 3 (calliope)",
    "Lead 4 (chiff)",
    "Lead 5 (charang)",
    "Lead 6 (voice)",
    "Lead 7 (fifths)",
    "Lead 8 (bass + lead)",
    "Pad 1 (new age)",
    "Pad 2 (warm)",
    "Pad 3 (polysynth)",
    "Pad 4 (choir)",
    "Pad 5 (bowed)",
    "Pad 6 (metallic)",
    "Pad 7 (halo)",
    "Pad 8 (sweep)",
  ].map((name, i): ProgramMapping => ({
    program: 80 + i,
    label: "synthesizer",
    name,
    low: 36,
    high: 96,
    playing: "keyboard",
  })),
  { program: 105, label: "banjo", name: "Banjo", low: 50, high: 84, playing: "plucked" },
  { program: 110, label: "violin", name: "Fiddle", low: 55, high: 96, playing: "sustained" },
];

/**
 * Presets that must never be rendered: the GS variations named after labels
 * that GM lacks, which play guitar samples in these soundfonts.
 */
export const FORBIDDEN_PRESETS: readonly { bank: number; program: number; name: string }[] = [
  { bank: 16, program: 25, name: "Mandolin" },
  { bank: 8, program: 24, name: "Ukulele" },
];

/** GM percussion keys (channel 10) used, by label. */
export const GM_PERCUSSION_KEYS: Readonly<Record<"drums" | "cymbals", readonly { key: number; name: string }[]>> = {
  drums: [
    { key: 35, name: "Acoustic Bass Drum" },
    { key: 36, name: "Bass Drum 1" },
    { key: 37, name: "Side Stick" },
    { key: 38, name: "Acoustic Snare" },
    { key: 40, name: "Electric Snare" },
    { key: 41, name: "Low Floor Tom" },
    { key: 43, name: "High Floor Tom" },
    { key: 45, name: "Low Tom" },
    { key: 47, name: "Low-Mid Tom" },
    { key: 48, name: "Hi-Mid Tom" },
    { key: 50, name: "High Tom" },
  ],
  cymbals: [
    { key: 42, name: "Closed Hi-Hat" },
    { key: 44, name: "Pedal Hi-Hat" },
    { key: 46, name: "Open Hi-Hat" },
    { key: 49, name: "Crash Cymbal 1" },
    { key: 51, name: "Ride Cymbal 1" },
    { key: 52, name: "Chinese Cymbal" },
    { key: 53, name: "Ride Bell" },
    { key: 55, name: "Splash Cymbal" },
    { key: 57, name: "Crash Cymbal 2" },
    { key: 59, name: "Ride Cymbal 2" },
  ],
};

/**
 * GM drum kits rendered (bank 128 preset numbers): the acoustic kits. The
 * Electronic, TR-808 and Orchestra kits are left out (not drum-kit sounds).
 */
export const GM_DRUM_KITS: readonly { program: number; name: string }[] = [
  { program: 0, name: "Standard" },
  { program: 8, name: "Room" },
  { program: 16, name: "Power" },
  { program: 32, name: "Jazz" },
  { program: 40, name: "Brush" },
];

/**
 * Hydrogen kits used, with the group each belongs to. Only acoustic kits
 * (synthesised electro kits and hand-percussion kits are left out); the
 * three "Millo" kits are one Ludwig set recorded three times, so one group.
 * `belofilms_GuitarStrums` is acoustic-guitar strums, all guitar.
 */
export const HYDROGEN_KITS: readonly { dir: string; group: string; package: string; guitar?: true }[] = [
  { dir: "Audiophob", group: "hydrogen-audiophob", package: "hydrogen-drumkits" },
  { dir: "BJA_Pacific", group: "hydrogen-bja-pacific", package: "hydrogen-drumkits" },
  { dir: "ColomboAcousticDrumkit", group: "hydrogen-colombo", package: "hydrogen-drumkits" },
  { dir: "ForzeeStereo", group: "hydrogen-forzee", package: "hydrogen-drumkits" },
  { dir: "Millo-Drums_v.1", group: "hydrogen-millo", package: "hydrogen-drumkits" },
  { dir: "Millo_MultiLayered2", group: "hydrogen-millo", package: "hydrogen-drumkits" },
  { dir: "Millo_MultiLayered3", group: "hydrogen-millo", package: "hydrogen-drumkits" },
  { dir: "The Black Pearl 1.0", group: "hydrogen-black-pearl", package: "hydrogen-drumkits" },
  { dir: "rumpf_kit_z01_h2", group: "hydrogen-rumpf", package: "hydrogen-drumkits" },
  { dir: "belofilms_GuitarStrums", group: "hydrogen-guitarstrums", package: "hydrogen-drumkits-effects", guitar: true },
];

// Checked in order; the first match wins. Percussion that is neither a
// drum-kit drum nor a cymbal (claps, cowbells, tambourines...) maps to null.
const HYDROGEN_NAME_RULES: readonly [RegExp, Label | null][] = [
  [/clap|cowbell|tambourine|agogo|conga|bongo|shaker|maraca|clave|block|whistle|snap|cajon|zap|fx|click/i, null],
  [/hi-?hat|\bhh\b|\bhat\b|hh\b|crash|ride|splash|china|cymbal/i, "cymbals"],
  [/kick|bass ?drum|\bbd\b|snare|\btom|stick|rimshot|rim click/i, "drums"],
];

/**
 * Maps a Hydrogen drum-kit instrument name to drums, cymbals or nothing.
 *
 * @param name The `<instrument><name>` of a kit's `drumkit.xml`.
 * @returns The label, or null when the instrument is neither (or unnamed).
 *
 * @example
 * ```ts
 * hydrogenInstrumentLabel("Sabian Hat Closed"); // "cymbals"
 * hydrogenInstrumentLabel("Pearl Tom Floor"); // "drums"
 * hydrogenInstrumentLabel("Cowbell"); // null
 * ```
 */
export function hydrogenInstrumentLabel(name: string): Label | null {
  for (const [pattern, label] of HYDROGEN_NAME_RULES) if (pattern.test(name)) return label;
  return null;
}
