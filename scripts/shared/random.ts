/**
 * Seeded pseudo-random numbers (mulberry32), the one generator of the offline tools: every dataset decision,
 * augmentation and generated test input is reproducible from its seed or key.
 *
 * @module
 */

/** A deterministic random source. */
export interface Random {
  /** Uniform float in [0, 1). */
  next(): number;
  /** Uniform integer in [0, n). */
  int(n: number): number;
  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T;
  /** A shuffled copy (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[];
}

/**
 * Hashes a string to 32 bits (FNV-1a), to derive seeds from names.
 *
 * @param text Any string.
 * @returns An unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * hashString("fluidr3:42"); // same number on every run
 * ```
 */
export function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/**
 * Creates a mulberry32 generator. String seeds are hashed, so a stream can be
 * derived per purpose (`createRandom(`${seed}:split`)`) without one consumer
 * shifting another's numbers.
 *
 * @param seed Number or string.
 * @returns A {@link Random}.
 *
 * @example
 * ```ts
 * const random = createRandom("42:pairs:epoch3");
 * random.shuffle([1, 2, 3]);
 * ```
 */
export function createRandom(seed: number | string): Random {
  let state = typeof seed === "number" ? seed >>> 0 : hashString(seed);
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    next,
    int,
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new RangeError("Cannot pick from an empty array");
      return items[int(items.length)]!;
    },
    shuffle<T>(items: readonly T[]): T[] {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(i + 1);
        [out[i], out[j]] = [out[j]!, out[i]!];
      }
      return out;
    },
  };
}

/**
 * A uniform number in [lo, hi).
 *
 * @param next A generator, e.g. `createRandom(key).next`.
 * @param lo Lower bound.
 * @param hi Upper bound.
 * @returns The number.
 */
export function uniform(next: () => number, lo: number, hi: number): number {
  return lo + (hi - lo) * next();
}

/**
 * A standard normal number (Box-Muller).
 *
 * @param next A generator, e.g. `createRandom(key).next`.
 * @returns The number.
 */
export function gaussian(next: () => number): number {
  const u = Math.max(next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
}
