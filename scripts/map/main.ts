/**
 * `deno task map`: writes `models/joint_map.json`, the 2-D map of the joint space the web page draws.
 * Samples up to `--per-label` items of each label and modality from `data/manifest.jsonl` (held-out splits
 * first), embeds them with the deployed model through the service's own pipeline (in this process), and
 * projects the label centroids (`joint_map.ts`). The map names the model version and translator sha256s it
 * was made with; `tests/scripts/map/joint_map_test.ts` fails when they no longer match `models/manifest.json`.
 *
 * ```sh
 * npx --yes deno@2.9.6 task map [--per-label 12] [--seed 1]
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { loadConfig } from "../../lib/config.ts";
import { itemPath, readManifest } from "../dataset/manifest.ts";
import { localRunner, progress } from "../cli/_common.ts";
import { buildJointMap, type Embedded, REBUILD, SAMPLE_SPLITS, sampleForMap } from "./joint_map.ts";

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { "per-label": { type: "string", default: "12" }, seed: { type: "string", default: "1" } },
  });
  const perLabel = Number(values["per-label"]);
  const seed = Number(values.seed);
  if (!Number.isInteger(perLabel) || perLabel < 1 || !Number.isInteger(seed)) {
    console.error("usage: deno task map [--per-label N] [--seed K]");
    Deno.exit(2);
  }
  const config = loadConfig();
  const manifest = JSON.parse(await Deno.readTextFile(join(config.modelsDir, "manifest.json")));
  const items = sampleForMap(await readManifest(join(config.dataDir, "manifest.jsonl")), { perLabel, seed });
  console.error(`map: ${items.length} items, model ${manifest.version}`);
  const runner = await localRunner();
  const bar = progress(items.length);
  const embedded: Embedded[] = [];
  for (const item of items) {
    const bytes = await Deno.readFile(itemPath(item, { dataDir: config.dataDir, corpusDir: config.corpusDir }));
    try {
      const result = await runner.embed(bytes, "joint");
      embedded.push({ label: item.label, modality: item.modality, vector: result.embedding });
    } catch (error) {
      // A dataset item the service cannot read is worth knowing about, not worth stopping the map for.
      console.error(`map: ${item.path}: ${(error as Error).message}`);
    }
    bar.tick();
  }
  bar.done();
  const count = (m: string) => embedded.filter((e) => e.modality === m).length;
  const map = buildJointMap(embedded, {
    model: manifest.version,
    translators: {
      audio: manifest.artifacts.translator_audio.sha256,
      image: manifest.artifacts.translator_image.sha256,
    },
    rebuild: REBUILD,
    sample: { seed, perLabel, splits: SAMPLE_SPLITS, items: { audio: count("audio"), image: count("image") } },
  });
  const out = join(config.modelsDir, "joint_map.json");
  await Deno.writeTextFile(out, JSON.stringify(map) + "\n");
  console.error(
    `map: wrote ${out} (${map.centroids.length} centroids; explained ${map.projection.explained.join(", ")}; ` +
      `nearest own centroid ${map.fidelity.nearestCentroid128d} in 128-d, ${map.fidelity.nearestCentroid2d} on the map)`,
  );
  Deno.exit(0);
}
