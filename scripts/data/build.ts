/**
 * `deno task data`: builds the instrument dataset under `data/` and writes
 * `data/manifest.jsonl` (format: scripts/dataset/manifest.ts).
 *
 * Steps: cut clips from corpus recordings; render the npm GM soundfonts with
 * spessasynth; render the shared WebAudioFont banks with a sampler; (opt-in
 * `--with-debian`: the Debian soundfonts and Hydrogen kits); list corpus
 * photos; render allowlisted icon drawings; assign splits; write the manifest;
 * write the no-instrument set as its own split (`negatives.jsonl`,
 * `scripts/data/negatives.ts`); write `build.json` and (full build) the
 * counts in docs/data.md. Every unit of work leaves a record in
 * `data/.units/`, so a re-run skips finished work; the manifest is rebuilt
 * from the records, deterministically for a seed.
 *
 * Nothing outside Deno and npm runs, and nothing installed on the machine
 * changes the default build: same seed, same manifest, on any machine.
 *
 * Usage: `deno task data [--small] [--seed N] [--out DIR] [--no-card] [--with-debian]`
 *
 * @module
 */
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../../lib/config.ts";
import { type Label, LABELS } from "../../lib/labels.ts";
import { formatManifest, type ManifestItem } from "../dataset/manifest.ts";
import { datasetRoots, REPO_ROOT } from "../dataset/paths.ts";
import { assignSplits } from "../dataset/splits.ts";
import type { BuildContext, Candidate } from "./common.ts";
import { corpusAudio, corpusPhotos, readCorpusManifest, sampleRows } from "./corpus.ts";
import { hydrogenClips, listKitSamples } from "./hydrogen.ts";
import { DEBIAN_SOUNDFONTS, planRenders, renderSoundfonts, SOUNDFONTS } from "./render_gm.ts";
import { planWebAudioFont, readWebAudioFontManifest, renderWebAudioFont, type Skipped } from "./webaudiofont.ts";
import { renderDrawings, writeContactSheet } from "./drawings.ts";
import { checkDebianExtras } from "./requirements.ts";
import { createProgress } from "./progress.ts";
import { updateDataCard } from "./data_card.ts";
import { buildNegatives, formatNegatives, type NegativeRow } from "./negatives.ts";

/** Options of {@link buildDataset}. */
export interface BuildOptions {
  /** Output folder. @default datasetRoots().dataDir */
  dataDir?: string;
  /** Corpus folder. @default datasetRoots().corpusDir */
  corpusDir?: string;
  /** Seed of every random choice. @default 42 */
  seed?: number;
  /** Tiny build for CI and tests (a few labels, files and renders). @default false */
  small?: boolean;
  /** Progress reporter. @default a bar on stderr */
  progress?: (stage: string, done: number, total: number) => void;
  /** Also render the Debian soundfonts and cut the Hydrogen kits (must be installed). @default false */
  withDebian?: boolean;
  /** WebAudioFont preset folder. @default `<AMODAL_SHARED_DIR>/soundbanks/webaudiofont` */
  webAudioFontDir?: string;
  /** Real recordings and photos with no instrument. @default `<AMODAL_SHARED_DIR>/negatives` */
  negativesDir?: string;
}

/** What {@link buildDataset} produced. */
export interface BuildResult {
  items: ManifestItem[];
  manifestPath: string;
  seconds: number;
  missingDrawings: string[];
  /** Sound-bank presets skipped because they did not parse or decode. */
  skipped: Skipped[];
  /** The no-instrument set (`negatives.jsonl`), its own split: no instrument model sees it. */
  negatives: NegativeRow[];
}

const SMALL_LABELS: readonly Label[] = ["cello", "drums", "guitar"];

/**
 * Builds the dataset.
 *
 * @param options Folders, seed, size.
 * @returns The manifest items and where they were written.
 *
 * @example
 * ```ts
 * const { items } = await buildDataset({ small: true, dataDir: "/tmp/amodal-data" });
 * ```
 */
export async function buildDataset(options: BuildOptions = {}): Promise<BuildResult> {
  const started = performance.now();
  const roots = datasetRoots();
  const small = options.small ?? false;
  const ctx: BuildContext = {
    dataDir: resolve(options.dataDir ?? roots.dataDir),
    corpusDir: resolve(options.corpusDir ?? roots.corpusDir),
    seed: options.seed ?? 42,
    small,
    progress: options.progress ?? createProgress(),
  };
  const withDebian = options.withDebian ?? false;
  if (withDebian) checkDebianExtras();
  await Deno.mkdir(ctx.dataDir, { recursive: true });

  const rows = await readCorpusManifest(ctx.corpusDir);
  const audioRows = rows.filter((r) => r.modality === "audio");
  const imageRows = rows.filter((r) => r.modality === "image");
  const candidates: Candidate[] = [];

  candidates.push(...await corpusAudio(ctx, small ? sampleRows(audioRows, 4, SMALL_LABELS) : audioRows));
  const soundfonts = withDebian ? [...SOUNDFONTS, ...DEBIAN_SOUNDFONTS] : SOUNDFONTS;
  const jobs = small
    ? planRenders({ perLabel: 8, minPerProgram: 8, labels: SMALL_LABELS, maxPrograms: 1, soundfonts })
    : planRenders({ perLabel: 160, minPerProgram: 12, soundfonts });
  candidates.push(...await renderSoundfonts(ctx, jobs));
  const waf = await readWebAudioFontManifest(options.webAudioFontDir);
  const wafJobs = small
    ? planWebAudioFont(waf.entries, { perLabel: 6, minPerPreset: 6, labels: SMALL_LABELS, maxPresets: 1 })
    : planWebAudioFont(waf.entries, { perLabel: 120, minPerPreset: 6 });
  const rendered = await renderWebAudioFont(ctx, wafJobs, {
    foreign: waf.foreign,
    ...(options.webAudioFontDir ? { dir: options.webAudioFontDir } : {}),
  });
  candidates.push(...rendered.candidates);
  if (withDebian) {
    const kitSamples = (await listKitSamples()).filter((s) => !small || SMALL_LABELS.includes(s.label));
    candidates.push(...await hydrogenClips(ctx, kitSamples, small ? 2 : 60));
  }
  candidates.push(...corpusPhotos(small ? sampleRows(imageRows, 24, ["drums", "guitar"]) : imageRows));
  const drawings = await renderDrawings(ctx, small ? SMALL_LABELS : LABELS);
  candidates.push(...drawings.candidates);
  if (!small) {
    // The sheet is for review only; a failure to draw it must not stop the build.
    await writeContactSheet(ctx, drawings.candidates).catch((error) =>
      console.error(`No contact sheet: ${error.message}`)
    );
  }

  const ids = new Set<string>();
  for (const c of candidates) {
    if (ids.has(c.id)) throw new Error(`Duplicate dataset item id: ${c.id}`);
    ids.add(c.id);
  }
  const decisions = assignSplits(candidates, { seed: ctx.seed });
  const items: ManifestItem[] = candidates.map(({ heldout: _heldout, ...c }) => ({ ...c, ...decisions.get(c.id)! }));
  const manifestPath = join(ctx.dataDir, "manifest.jsonl");
  await Deno.writeTextFile(manifestPath, formatManifest(items));
  const negatives = await buildNegatives(ctx, options.negativesDir ?? join(loadConfig().sharedDir, "negatives"));
  await Deno.writeTextFile(join(ctx.dataDir, "negatives.jsonl"), formatNegatives(negatives));
  const seconds = (performance.now() - started) / 1000;
  await Deno.writeTextFile(
    join(ctx.dataDir, "build.json"),
    JSON.stringify(
      {
        seed: ctx.seed,
        small,
        withDebian,
        items: items.length,
        negatives: negatives.length,
        seconds: Math.round(seconds),
        missingDrawings: drawings.missing,
        skipped: rendered.skipped,
      },
      null,
      2,
    ) +
      "\n",
  );
  return { items, manifestPath, seconds, missingDrawings: drawings.missing, skipped: rendered.skipped, negatives };
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      small: { type: "boolean", default: false },
      seed: { type: "string", default: "42" },
      out: { type: "string" },
      "no-card": { type: "boolean", default: false },
      "with-debian": { type: "boolean", default: false },
    },
  });
  const seed = Number(values.seed);
  if (!Number.isInteger(seed)) throw new RangeError(`--seed must be an integer, got "${values.seed}"`);
  try {
    const result = await buildDataset({
      small: values.small,
      seed,
      withDebian: values["with-debian"],
      ...(values.out ? { dataDir: values.out } : {}),
    });
    const bySplit = new Map<string, number>();
    for (const item of result.items) {
      bySplit.set(`${item.modality} ${item.split}`, (bySplit.get(`${item.modality} ${item.split}`) ?? 0) + 1);
    }
    console.log(`Wrote ${result.items.length} items to ${result.manifestPath} in ${result.seconds.toFixed(0)} s`);
    for (const [key, n] of [...bySplit].sort()) console.log(`  ${key}: ${n}`);
    console.log(`Wrote the no-instrument set (split "negative"): ${result.negatives.length} items`);
    if (result.missingDrawings.length > 0) {
      console.log(`Allowlisted icons not in their sets: ${result.missingDrawings.join(", ")}`);
    }
    if (result.skipped.length > 0) {
      console.log(`Skipped sound-bank presets (did not parse or decode): ${result.skipped.length}`);
    }
    if (!values.small && !values.out && !values["no-card"]) {
      await updateDataCard(join(REPO_ROOT, "docs/data.md"), result.items, result.skipped, result.negatives);
      console.log("Updated the counts in docs/data.md");
    }
  } catch (error) {
    console.error(`\n${(error as Error).message}`);
    Deno.exit(1);
  }
}
