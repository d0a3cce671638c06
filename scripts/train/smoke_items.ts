/**
 * The tiny dataset of `deno task train --smoke`: a few corpus files per label, assigned to every
 * split, so CI can run each training stage in seconds without building the full dataset.
 *
 * @module
 */
import type { Domain, ManifestItem, Split } from "../dataset/manifest.ts";
import type { Label } from "../../lib/labels.ts";

/** Labels in the smoke slice: four with audio and photos, one with audio only (no pairs). */
export const SMOKE_LABELS: readonly Label[] = ["banjo", "drums", "guitar", "violin", "cello"];

/** Split of the n-th chosen file of a (label, modality). */
const SMOKE_SPLITS: readonly Split[] = [
  "translation-train",
  "translation-train",
  "translation-val",
  "classify-train",
  "classify-train",
  "classify-test",
  "classify-test",
];

/**
 * Picks the smoke slice from the corpus manifest.
 *
 * @param csv Text of `corpus/manifest.csv` (header `path,modality,label,source,group,origin,license,sha256`).
 * @returns Manifest items with `root: "corpus"`, evenly spaced over each (label, modality)'s files.
 *
 * @example
 * ```ts
 * const items = smokeItems(await Deno.readTextFile("../shared/corpus/manifest.csv"));
 * ```
 */
export function smokeItems(csv: string): ManifestItem[] {
  const [header, ...lines] = csv.trim().split("\n");
  const cols = header!.split(",");
  const rows = lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [cols[i], v])) as Record<string, string>);
  const items: ManifestItem[] = [];
  for (const label of SMOKE_LABELS) {
    for (const modality of ["audio", "image"] as const) {
      const files = rows.filter((r) => r.label === label && r.modality === modality).sort((
        a,
        b,
      ) => (a.path! < b.path! ? -1 : 1));
      if (files.length === 0) continue;
      SMOKE_SPLITS.forEach((split, n) => {
        const r = files[Math.floor((n * files.length) / SMOKE_SPLITS.length)]!;
        const domain: Domain = modality === "audio" ? "recording" : "photo";
        items.push({
          id: `smoke/${r.path}`,
          root: "corpus",
          path: r.path!,
          modality,
          label,
          split,
          domain,
          source: r.source!,
          group: r.group!,
          unit: r.path!,
          splitBy: "file",
          origin: r.origin!,
          license: r.license!,
        });
      });
    }
  }
  return items;
}
