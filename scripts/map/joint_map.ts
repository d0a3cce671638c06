/**
 * The 2-D map of the joint space the web page draws: each label's centroid for each modality, projected
 * by a PCA fitted on those centroids, with the projection itself so the page can place a new input's
 * joint vector on the same map. Pure functions; `main.ts` feeds them embeddings from the real pipeline.
 *
 * @module
 */
// deno-lint-ignore no-import-prefix -- offline-only package, pinned here and locked in deno.lock
import { PCA } from "npm:ml-pca@4.1.1";
import type { ManifestItem, Split } from "../dataset/manifest.ts";
import { createRandom } from "../shared/random.ts";

/** The command that rebuilds the map, quoted in it. */
export const REBUILD = "npx --yes deno@2.9.6 task map";

/** Format tag of `models/joint_map.json`. */
export const MAP_FORMAT = "amodal-joint-map/1";

/** Splits a map sample is drawn from, most preferred first: held-out items before trained ones. */
export const SAMPLE_SPLITS: readonly Split[] = [
  "classify-test",
  "retrieval",
  "heldout",
  "translation-val",
  "classify-train",
  "translation-train",
];

/** One sampled item's joint vector. */
export interface Embedded {
  label: string;
  modality: "audio" | "image";
  vector: ArrayLike<number>;
}

/** A label's centroid for one modality, on the map. */
export interface MapCentroid {
  label: string;
  modality: "audio" | "image";
  /** Items the centroid is the mean of. */
  n: number;
  x: number;
  y: number;
}

/** `models/joint_map.json`. */
export interface JointMap {
  format: typeof MAP_FORMAT;
  /** Model version (`models/manifest.json` `version`) whose translators made the vectors. */
  model: string;
  /** sha256 of the translators the vectors came from, as `models/manifest.json` lists them. */
  translators: { audio: string; image: string };
  created: string;
  rebuild: string;
  sample: { seed: number; perLabel: number; splits: readonly Split[]; items: { audio: number; image: number } };
  projection: {
    method: string;
    /** Joint vectors are L2-normalised before `mean` is subtracted. */
    normalize: "l2";
    mean: number[];
    /** Two rows of `dim` values: x = row 0 · (v - mean), y = row 1 · (v - mean). */
    components: number[][];
    /** Share of the centroids' variance each axis holds. */
    explained: number[];
  };
  /** How far the map can be trusted: nearest own-label centroid (same modality) in 128-d and on the map. */
  fidelity: { nearestCentroid128d: number; nearestCentroid2d: number };
  centroids: MapCentroid[];
}

/**
 * Picks up to `perLabel` items of each label and modality, from the most preferred split that has them
 * (seeded shuffle within a split), so held-out items are used before trained ones.
 *
 * @param items Manifest items.
 * @param options `perLabel` items per (label, modality); `seed` for the shuffle.
 * @returns The chosen items, grouped by modality and label.
 *
 * @example
 * ```ts
 * const chosen = sampleForMap(await readManifest("data/manifest.jsonl"), { perLabel: 12, seed: 1 });
 * ```
 */
export function sampleForMap(
  items: readonly ManifestItem[],
  options: { perLabel: number; seed: number },
): ManifestItem[] {
  const groups = new Map<string, ManifestItem[]>();
  for (const item of items) {
    if (!SAMPLE_SPLITS.includes(item.split)) continue;
    const key = `${item.modality}\n${item.label}`;
    groups.set(key, [...(groups.get(key) ?? []), item]);
  }
  const chosen: ManifestItem[] = [];
  for (const key of [...groups.keys()].sort()) {
    const group = groups.get(key)!;
    const random = createRandom(`${options.seed}:map:${key}`);
    const ordered = SAMPLE_SPLITS.flatMap((split) =>
      random.shuffle(group.filter((item) => item.split === split).sort((a, b) => a.id.localeCompare(b.id)))
    );
    chosen.push(...ordered.slice(0, options.perLabel));
  }
  return chosen;
}

/**
 * Scales a vector to unit length (zero stays zero).
 *
 * @param v Any vector.
 * @returns A new unit vector.
 */
export function unit(v: ArrayLike<number>): number[] {
  let norm = 0;
  for (let i = 0; i < v.length; i++) norm += v[i]! * v[i]!;
  norm = Math.sqrt(norm) || 1;
  return Array.from(v, (x) => x / norm);
}

/**
 * Projects a joint vector onto the map, as the page does.
 *
 * @param projection The map's projection.
 * @param vector A joint vector (any length scale).
 * @returns `[x, y]`.
 */
export function project(projection: JointMap["projection"], vector: ArrayLike<number>): [number, number] {
  const u = unit(vector);
  const [a, b] = projection.components.map((row) => row.reduce((s, w, i) => s + w * (u[i]! - projection.mean[i]!), 0));
  return [a!, b!];
}

/**
 * Builds the map from sampled items' joint vectors: L2-normalise, average per (label, modality), fit a
 * 2-component PCA on the centroids (each counts once, so a label with few items weighs as much as one
 * with many), project them, and measure how often an item's nearest centroid of its modality is its own
 * label in the full space and on the map.
 *
 * @param embedded Joint vectors of the sampled items.
 * @param facts Model version, translator sha256s and sampling settings, copied into the map.
 * @returns The map.
 */
export function buildJointMap(
  embedded: readonly Embedded[],
  facts: Pick<JointMap, "model" | "translators" | "rebuild" | "sample">,
): JointMap {
  const groups = new Map<string, { label: string; modality: "audio" | "image"; vectors: number[][] }>();
  for (const e of embedded) {
    const key = `${e.modality}\n${e.label}`;
    const group = groups.get(key) ?? { label: e.label, modality: e.modality, vectors: [] };
    group.vectors.push(unit(e.vector));
    groups.set(key, group);
  }
  const ordered = [...groups.values()].sort((a, b) =>
    a.label.localeCompare(b.label) || a.modality.localeCompare(b.modality)
  );
  if (ordered.length < 3) throw new RangeError(`Cannot fit a 2-D map on ${ordered.length} centroids (need 3)`);
  const means = ordered.map((g) => mean(g.vectors));
  const pca = new PCA(means, { center: true, scale: false });
  const mu = mean(means);
  const components = pca.getEigenvectors().transpose().to2DArray().slice(0, 2).map((row) => {
    // A fixed sign (largest weight positive), so a rebuild on the same vectors draws the same map.
    const big = row.reduce((m, w) => (Math.abs(w) > Math.abs(m) ? w : m), 0);
    return row.map((w) => (big < 0 ? -w : w));
  });
  const projection: JointMap["projection"] = {
    method: "PCA (2 components) of the label centroids; each label's centroid of each modality counts once",
    normalize: "l2",
    mean: mu.map(round),
    components: components.map((row) => row.map(round)),
    explained: pca.getExplainedVariance().slice(0, 2).map(round),
  };
  const centroids = ordered.map((g, i) => {
    const [x, y] = projectCentered(components, mu, means[i]!);
    return { label: g.label, modality: g.modality, n: g.vectors.length, x: round(x), y: round(y) };
  });
  // Fidelity: for each item, is the nearest centroid of its modality its own label?
  let full = 0, flat = 0, total = 0;
  for (const g of ordered) {
    const rivals = ordered.map((r, i) => ({ r, i })).filter(({ r }) => r.modality === g.modality);
    for (const v of g.vectors) {
      total++;
      const near128 = argmin(rivals.map(({ i }) => distance(v, means[i]!)));
      const p = projectCentered(components, mu, v);
      const near2 = argmin(rivals.map(({ i }) => distance(p, [centroids[i]!.x, centroids[i]!.y])));
      if (rivals[near128]!.r === g) full++;
      if (rivals[near2]!.r === g) flat++;
    }
  }
  return {
    format: MAP_FORMAT,
    model: facts.model,
    translators: facts.translators,
    created: new Date().toISOString(),
    rebuild: facts.rebuild,
    sample: facts.sample,
    projection,
    fidelity: { nearestCentroid128d: round(full / total), nearestCentroid2d: round(flat / total) },
    centroids,
  };
}

function projectCentered(components: number[][], mu: number[], v: ArrayLike<number>): [number, number] {
  const [a, b] = components.map((row) => row.reduce((s, w, i) => s + w * (v[i]! - mu[i]!), 0));
  return [a!, b!];
}

function mean(vectors: readonly ArrayLike<number>[]): number[] {
  const out = new Array<number>(vectors[0]!.length).fill(0);
  for (const v of vectors) for (let i = 0; i < out.length; i++) out[i] = out[i]! + v[i]! / vectors.length;
  return out;
}

function distance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i]! - b[i]!) ** 2;
  return Math.sqrt(s);
}

function argmin(values: number[]): number {
  return values.reduce((best, v, i) => (v < values[best]! ? i : best), 0);
}

/** Six significant decimals are far below what a map of a few hundred pixels can show. */
function round(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
