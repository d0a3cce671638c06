/**
 * Encoder embeddings of every corpus file (originals only, no augmentation), through the training
 * extractor and its cache (`.cache/embeddings/`), for the collections experiments: teaching a label
 * from one modality (`teach_eval.py`) and the vector compression measurement.
 *
 * Writes `<out>/items.json` (the extractor's cache folders, whose `retrieval.jsonl` lists each row) and
 * `<out>/joint-<modality>.f32`: every cached row mapped into the deployed joint space (same row order).
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
import { loadJointSpace } from "../../lib/joint/joint_space.ts";

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
  // The deployed translator (trained on all 18 labels), row for row.
  const joint = await loadJointSpace(config.modelsDir, { threads: 2 });
  for (const [modality, dir] of Object.entries(dirs) as ["audio" | "image", string][]) {
    const raw = await Deno.readFile(join(dir, "retrieval.f32"));
    const x = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    const z = await joint.translate(modality, x);
    await Deno.writeFile(join(out, `joint-${modality}.f32`), new Uint8Array(z.buffer, z.byteOffset, z.byteLength));
    console.log(`joint: ${modality}: ${z.length / 128} rows -> ${join(out, `joint-${modality}.f32`)}`);
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
