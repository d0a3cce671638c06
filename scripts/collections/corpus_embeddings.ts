/**
 * Encoder embeddings of every corpus file (originals only, no augmentation), through the training
 * extractor and its cache (`.cache/embeddings/`), for the collections experiments: teaching a label
 * from one modality (`teach_eval.py`) and the vector compression measurement.
 *
 * Writes `<out>/items.json` (one entry per cached row: path, modality, label, group, source) beside
 * the extractor's cache folders it names.
 *
 * Usage: `deno run -A scripts/collections/corpus_embeddings.ts [--out .cache/collections] [--workers 2]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { loadConfig } from "../../lib/config.ts";
import { ensureEncoders } from "../../lib/weights/ensure_encoders.ts";
import { extractEmbeddings, toEmbedItems } from "../embed/extract.ts";
import type { ManifestItem } from "../dataset/manifest.ts";
import type { Label } from "../../lib/labels.ts";

/**
 * Every corpus file as a manifest item in the `retrieval` role (so the extractor embeds each once).
 *
 * @param csv Text of `corpus/manifest.csv`.
 * @returns One item per row.
 */
export function corpusItems(csv: string): ManifestItem[] {
  const [header, ...lines] = csv.trim().split("\n");
  const cols = header!.split(",");
  return lines.map((l) => {
    const r = Object.fromEntries(l.split(",").map((v, i) => [cols[i], v])) as Record<string, string>;
    const modality = r.modality as "audio" | "image";
    return {
      id: `corpus/${r.path}`,
      root: "corpus",
      path: r.path!,
      modality,
      label: r.label as Label,
      split: "retrieval",
      domain: modality === "audio" ? "recording" : "photo",
      source: r.source!,
      group: r.group!,
      unit: r.path!,
      splitBy: "file",
      origin: r.origin!,
      license: r.license!,
    };
  });
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { out: { type: "string", default: ".cache/collections" }, workers: { type: "string", default: "2" } },
  });
  const config = loadConfig();
  const out = resolve(values.out!);
  await Deno.mkdir(out, { recursive: true });
  const items = corpusItems(await Deno.readTextFile(join(config.corpusDir, "manifest.csv")));
  const roots = { dataDir: config.dataDir, corpusDir: config.corpusDir };
  const encoders = await ensureEncoders({
    names: [config.audioEncoder, config.imageEncoder],
    cacheDir: config.cacheDir,
  });
  const dirs: Record<string, string> = {};
  for (const name of [config.audioEncoder, config.imageEncoder]) {
    const result = await extractEmbeddings({
      items: toEmbedItems(items, roots),
      encoder: encoders[name]!,
      cacheRoot: join(config.cacheDir, "embeddings"),
      views: 0,
      seed: 1,
      workers: Number(values.workers),
      roles: ["retrieval"],
    });
    dirs[encoders[name]!.card.modality] = result.dir;
    console.log(`${name}: ${result.rows.retrieval} rows in ${result.dir} (${result.failed.length} failed)`);
  }
  await Deno.writeTextFile(
    join(out, "items.json"),
    JSON.stringify({
      dirs,
      items: items.map(({ id, path, modality, label, group, source }) => ({
        id,
        path,
        modality,
        label,
        group,
        source,
      })),
    }),
  );
}
