/**
 * Labels taught by a collection: items whose metadata carries `label` teach it, whatever their
 * modality, and a query (sound or picture) gets the nearest taught label in the joint space. Two rules,
 * compared in reports/collections/teach.md: the nearest label prototype (the mean of a label's unit
 * vectors) and a k-nearest-neighbour vote. Below a calibrated cosine the answer is "none".
 *
 * @module
 */
import { join } from "node:path";
import { normalize } from "./vector_codec.ts";
import type { VectorIndex } from "./vector_index.ts";

/** How a taught label is chosen, and when to say none. */
export interface TeachRule {
  method: "prototype" | "knn";
  /** Neighbours for `knn`. */
  k: number;
  /** Scores below this answer none. */
  threshold: number;
  /** Where the numbers come from. */
  source: string;
}

/** Used when `models/teach.json` is absent (the values `scripts/collections/teach_eval.py` chose). */
export const DEFAULT_RULE: TeachRule = { method: "knn", k: 5, threshold: 0.88, source: "built-in default" };

/** One taught label's score. */
export interface TaughtScore {
  label: string;
  score: number;
  /** Items that teach it. */
  examples: number;
}

/** The answer for one query. */
export interface TaughtAnswer {
  /** The nearest taught label, or null below the threshold (or when nothing is taught). */
  label: string | null;
  score: number | null;
  /** Every taught label by decreasing score. */
  scores: TaughtScore[];
  method: TeachRule["method"];
  threshold: number;
}

/**
 * Reads the rule `teach_eval.py` calibrated, or the default.
 *
 * @param modelsDir The models folder.
 * @returns The rule.
 */
export async function loadTeachRule(modelsDir: string): Promise<TeachRule> {
  try {
    const raw = JSON.parse(await Deno.readTextFile(join(modelsDir, "teach.json")));
    return {
      method: raw.method === "knn" ? "knn" : "prototype",
      k: Number(raw.k) || DEFAULT_RULE.k,
      threshold: Number(raw.threshold),
      source: "models/teach.json",
    };
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return DEFAULT_RULE;
    throw error;
  }
}

/**
 * The nearest taught label for a query.
 *
 * @param index The collection's vectors (rows with a user label teach).
 * @param query The query's joint embedding.
 * @param rule Method and threshold.
 * @returns The answer.
 *
 * @example
 * ```ts
 * const answer = nearestTaught(index, embedding, DEFAULT_RULE);
 * answer.label; // "sitar" or null
 * ```
 */
export function nearestTaught(index: VectorIndex, query: ArrayLike<number>, rule: TeachRule): TaughtAnswer {
  const q = normalize(Float32Array.from(query));
  const groups = index.labelled();
  const scores: TaughtScore[] = [];
  if (rule.method === "prototype") {
    for (const [label, rows] of groups) {
      const proto = new Float32Array(q.length);
      for (const row of rows) for (let i = 0; i < q.length; i++) proto[i] = proto[i]! + row[i]!;
      normalize(proto);
      scores.push({ label, score: dot(proto, q), examples: rows.length });
    }
  } else {
    // Mean cosine of a label's k nearest rows (fewer when it has fewer): a label with one close example does not
    // beat one with several.
    for (const [label, rows] of groups) {
      const sims = rows.map((row) => dot(row, q)).sort((a, b) => b - a).slice(0, rule.k);
      scores.push({ label, score: sims.reduce((a, b) => a + b, 0) / sims.length, examples: rows.length });
    }
  }
  scores.sort((a, b) => b.score - a.score);
  for (const s of scores) s.score = Math.round(s.score * 1e4) / 1e4;
  const best = scores[0];
  const ok = best !== undefined && best.score >= rule.threshold;
  return {
    label: ok ? best.label : null,
    score: ok ? best.score : null,
    scores,
    method: rule.method,
    threshold: rule.threshold,
  };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
