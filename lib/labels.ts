/**
 * The 18 instrument labels, in the order the classifier reports them.
 *
 * @module
 */

/** Instrument labels (alphabetical; indices are class ids in trained artifacts). */
export const LABELS = [
  "accordion",
  "banjo",
  "cello",
  "clarinet",
  "cymbals",
  "drums",
  "flute",
  "guitar",
  "mandolin",
  "organ",
  "piano",
  "saxophone",
  "synthesizer",
  "trombone",
  "trumpet",
  "ukulele",
  "violin",
  "voice",
] as const;

/** One instrument label. */
export type Label = typeof LABELS[number];
