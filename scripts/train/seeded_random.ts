/**
 * Deterministic random numbers for augmentation: the same key (item id, view, seed) always gives
 * the same stream, so re-running the pipeline reproduces every augmented view.
 *
 * @module
 */

/**
 * A seeded uniform generator in [0, 1) (mulberry32 over an FNV-1a hash of the key).
 *
 * @param key Any string; equal keys give equal streams.
 * @returns A function returning the next number.
 *
 * @example
 * ```ts
 * const rand = seededRandom("item-42/view-1/seed-1234");
 * rand(); // always the same first value for this key
 * ```
 */
export function seededRandom(key: string): () => number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A uniform number in [lo, hi).
 *
 * @param rand A generator from {@linkcode seededRandom}.
 * @param lo Lower bound.
 * @param hi Upper bound.
 * @returns The number.
 */
export function uniform(rand: () => number, lo: number, hi: number): number {
  return lo + (hi - lo) * rand();
}

/**
 * A standard normal number (Box-Muller).
 *
 * @param rand A generator from {@linkcode seededRandom}.
 * @returns The number.
 */
export function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}
