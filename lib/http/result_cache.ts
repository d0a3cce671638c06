/**
 * Results of inference kept by content, so a file sent again answers from memory, bounded by bytes.
 *
 * Keys are computed by the service (sha256 of the bytes received, model version, operation), never taken
 * from a client, so a client cannot plant a result under another file's key; and the byte bound holds
 * whatever clients send, so a flood of distinct files only evicts least-recently-used entries.
 *
 * @module
 */

/**
 * A least-recently-used map whose total size (as estimated by the caller per entry) stays under a bound.
 *
 * @example
 * ```ts
 * const cache = new ResultCache<string>(1000);
 * cache.set("a", "result", 6);
 * cache.get("a"); // "result"
 * ```
 */
export class ResultCache<V> {
  #maxBytes: number;
  #bytes = 0;
  // Map iteration order is insertion order: re-inserting on use keeps the least recently used first.
  #entries = new Map<string, { value: V; size: number }>();

  /** @param maxBytes Bound on the summed entry sizes; 0 disables the cache. */
  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /**
   * Looks an entry up and marks it recently used.
   *
   * @param key The entry's key.
   * @returns The value, or undefined when absent.
   */
  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  /**
   * Stores an entry, evicting least-recently-used ones until the bound holds.
   *
   * @param key The entry's key.
   * @param value The value.
   * @param size Its size in bytes (an estimate is fine: it only has to be proportional to memory held).
   * @returns Whether it was stored (an entry larger than the whole bound is not).
   */
  set(key: string, value: V, size: number): boolean {
    const old = this.#entries.get(key);
    if (old) {
      this.#entries.delete(key);
      this.#bytes -= old.size;
    }
    if (size > this.#maxBytes) return false;
    while (this.#bytes + size > this.#maxBytes) {
      const [oldestKey, oldest] = this.#entries.entries().next().value!;
      this.#entries.delete(oldestKey);
      this.#bytes -= oldest.size;
    }
    this.#entries.set(key, { value, size });
    this.#bytes += size;
    return true;
  }

  /** Summed size of the entries held. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Number of entries held. */
  get size(): number {
    return this.#entries.size;
  }
}
