/**
 * One collection's vectors in memory, for exact cosine search: a row-major float32 matrix of unit
 * vectors that grows by doubling, with each row's id, modality and user label beside it. A search is
 * one pass of dot products over the rows (128 multiply-adds each) and a bounded selection of the best
 * `k`; scripts/bench/search.ts measures it to 100,000 rows and more.
 *
 * @module
 */
import { normalize } from "./vector_codec.ts";

/** What a row carries besides its vector. */
export interface RowFacts {
  modality: "audio" | "image";
  /** The user's `label` from the item's metadata, when it has one. */
  label: string | null;
  /** Model version the vector was computed by. */
  model: string;
}

/** One search hit. */
export interface Hit {
  id: string;
  score: number;
}

const MODALITY_CODE = { audio: 0, image: 1 } as const;

/** Exact cosine search over unit vectors. */
export class VectorIndex {
  /** Dimensions of every row. */
  readonly dim: number;
  #matrix: Float32Array;
  #modality: Uint8Array;
  #ids: string[] = [];
  #facts: RowFacts[] = [];
  #rows = new Map<string, number>();

  /**
   * @param dim Dimensions of every vector.
   * @param capacity Rows to allocate at first. @default 64
   */
  constructor(dim: number, capacity = 64) {
    this.dim = dim;
    this.#matrix = new Float32Array(dim * capacity);
    this.#modality = new Uint8Array(capacity);
  }

  /** Rows held. */
  get size(): number {
    return this.#ids.length;
  }

  /** Bytes of the matrix and per-row arrays (ids and facts not counted). */
  get bytes(): number {
    return this.#matrix.byteLength + this.#modality.byteLength;
  }

  /**
   * Adds or replaces a row.
   *
   * @param id The item id.
   * @param vector `dim` values (normalised here; the caller's array is not changed).
   * @param facts Modality, user label, model.
   * @throws {RangeError} When the vector has the wrong length.
   */
  upsert(id: string, vector: ArrayLike<number>, facts: RowFacts): void {
    if (vector.length !== this.dim) {
      throw new RangeError(`Cannot index ${id}: vector has ${vector.length} values, the collection ${this.dim}`);
    }
    let row = this.#rows.get(id);
    if (row === undefined) {
      row = this.#ids.length;
      if ((row + 1) * this.dim > this.#matrix.length) this.#grow();
      this.#ids.push(id);
      this.#facts.push(facts);
      this.#rows.set(id, row);
    } else this.#facts[row] = facts;
    const at = row * this.dim;
    this.#matrix.set(vector, at);
    normalize(this.#matrix.subarray(at, at + this.dim));
    this.#modality[row] = MODALITY_CODE[facts.modality];
  }

  /**
   * Removes a row (the last row takes its place).
   *
   * @param id The item id.
   * @returns Whether it was there.
   */
  remove(id: string): boolean {
    const row = this.#rows.get(id);
    if (row === undefined) return false;
    const last = this.#ids.length - 1;
    if (row !== last) {
      const lastId = this.#ids[last]!;
      this.#matrix.copyWithin(row * this.dim, last * this.dim, (last + 1) * this.dim);
      this.#modality[row] = this.#modality[last]!;
      this.#ids[row] = lastId;
      this.#facts[row] = this.#facts[last]!;
      this.#rows.set(lastId, row);
    }
    this.#ids.pop();
    this.#facts.pop();
    this.#rows.delete(id);
    return true;
  }

  /**
   * A row's facts.
   *
   * @param id The item id.
   * @returns Its facts, or undefined.
   */
  facts(id: string): RowFacts | undefined {
    const row = this.#rows.get(id);
    return row === undefined ? undefined : this.#facts[row];
  }

  /**
   * Rows computed by another model version than `model`.
   *
   * @param model The current model version.
   * @returns How many.
   */
  staleCount(model: string): number {
    let n = 0;
    for (const f of this.#facts) if (f.model !== model) n++;
    return n;
  }

  /**
   * The `k` rows most similar to `query` by cosine.
   *
   * @param query `dim` finite values (need not be unit length).
   * @param k How many hits at most.
   * @param modality Only rows of this modality, when given.
   * @returns Hits by decreasing score.
   */
  search(query: ArrayLike<number>, k: number, modality?: "audio" | "image"): Hit[] {
    const q = normalize(Float32Array.from(query));
    const dim = this.dim, m = this.#matrix, n = this.#ids.length;
    const want = modality === undefined ? -1 : MODALITY_CODE[modality];
    // The best k so far, kept sorted by decreasing score; most rows fail the first comparison.
    const scores: number[] = [], rows: number[] = [];
    for (let r = 0; r < n; r++) {
      if (want >= 0 && this.#modality[r] !== want) continue;
      let s = 0;
      const at = r * dim;
      for (let i = 0; i < dim; i++) s += m[at + i]! * q[i]!;
      if (scores.length === k && s <= scores[k - 1]!) continue;
      let j = scores.length === k ? k - 1 : scores.length;
      while (j > 0 && scores[j - 1]! < s) {
        scores[j] = scores[j - 1]!;
        rows[j] = rows[j - 1]!;
        j--;
      }
      scores[j] = s;
      rows[j] = r;
    }
    return rows.map((r, i) => ({ id: this.#ids[r]!, score: scores[i]! }));
  }

  /**
   * Unit vectors grouped by user label (rows without one are skipped), for teaching.
   *
   * @param modality Only rows of this modality, when given.
   * @returns label -> the rows' vectors.
   */
  labelled(modality?: "audio" | "image"): Map<string, Float32Array[]> {
    const out = new Map<string, Float32Array[]>();
    for (let r = 0; r < this.#ids.length; r++) {
      const f = this.#facts[r]!;
      if (f.label === null || (modality && f.modality !== modality)) continue;
      const list = out.get(f.label) ?? [];
      list.push(this.#matrix.subarray(r * this.dim, (r + 1) * this.dim));
      out.set(f.label, list);
    }
    return out;
  }

  #grow(): void {
    const matrix = new Float32Array(this.#matrix.length * 2);
    matrix.set(this.#matrix);
    this.#matrix = matrix;
    const modality = new Uint8Array(this.#modality.length * 2);
    modality.set(this.#modality);
    this.#modality = modality;
  }
}
