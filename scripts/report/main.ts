/**
 * `deno task report`: runs the paper's experiments on the dataset and writes `reports/latest/`
 * (report.md, PNG figures, metrics.json) and the headline numbers to `models/metrics.json`, which
 * `/v1/models` quotes.
 *
 * 1. Embeddings of every dataset item for each encoder compared (YAMNet and the non-learned log-mel
 *    statistics; MobileNetV2, the MobileNetV1 embedding extractor, TF2 MobileNetV2), plus YAMNet's
 *    AudioSet and MobileNetV2's ImageNet scores for the off-the-shelf baselines, all through
 *    `extractEmbeddings()` of `deno task train` and its cache (`.cache/embeddings/`), so rows the
 *    training run computed are reused and the same augmented views are used.
 * 2. `experiments.py` trains translators (scripts/train/translate.py) and PCA (pca.py) per encoder
 *    pair and seed, fits the forests and computes every number -> `metrics.json`.
 * 3. `report.py` draws the figures and writes `report.md`.
 *
 * Flags: `--out DIR` (default `reports/latest`), `--data DIR`, `--seeds N` (default 3, from 1234),
 * `--max-epochs N` (translator cap, default 300 as in training), `--audio-views N` / `--image-views N`
 * (augmented views per training item, default 1 each; training uses 4 / 2), `--workers N` (embedding workers,
 * default 2), `--embed-only` (with `--only audio:log_mel_stats,image:mobilenet_v1,...` to warm
 * some caches), `--smoke` (the training smoke slice, two encoder pairs, two seeds,
 * 3 epochs, 20 trees; needs `--out`; for CI). Python: env `AMODAL_PYTHON` or `/usr/bin/python3`
 * with torch, scikit-learn, onnx, matplotlib.
 *
 * `--loso` runs only the leave-one-source-out part (seconds): `reports/latest/loso.md` and its figures
 * from `models/loso.json` and `reports/latest/loso_levers.json`. With `--levers NAME,NAME` (names in
 * `scripts/train/levers.json`, or `all`) it first screens those levers (levers.py, `--grouped 4` unless
 * `--grouped K`) on the training run's embedding cache and folds, adding their rows to loso_levers.json
 * (a lever whose name, recipe and grouping are there already is not re-run).
 *
 * @module
 */
import { requirePython } from "../setup/python.ts";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type ManifestItem, readManifest } from "../dataset/manifest.ts";
import { LABELS } from "../../lib/labels.ts";
import { sha256Hex } from "../../lib/joint/artifact.ts";
import { ensureEncoders } from "../../lib/weights/ensure_encoders.ts";
import { denoTask, loadConfig, REPO_ROOT } from "../../lib/config.ts";
import TRAINING_PARAMS from "../train/params.json" with { type: "json" };
import { countClasses, extractEmbeddings, type ExtractResult, ROLES, toEmbedItems } from "../embed/extract.ts";
import { extractPatches } from "../embed/extract_patches.ts";
import { smokeItems } from "../train/smoke_items.ts";
import { losoFolds } from "../train/loso_folds.ts";

const HERE = dirname(fileURLToPath(import.meta.url));

/** Audio encoders compared: name -> (encoder card, what a row holds). */
const AUDIO = {
  yamnet: { encoder: "yamnet", output: "embedding" },
  log_mel_stats: { encoder: "yamnet", output: "log_mel_stats" },
} as const;
/** Image encoders compared. */
const IMAGE = ["mobilenet_v2", "mobilenet_v1", "tf2_mobilenet_v2"] as const;
/** The served pair (the training defaults). */
const SERVED = { audio: "yamnet", image: "mobilenet_v2" } as const;
/** Translator, PCA and forest settings: training's, from one file (scripts/train/params.json). */
const TRANSLATOR = TRAINING_PARAMS.translator;
const PCA = TRAINING_PARAMS.pca;
const FOREST = { trees: TRAINING_PARAMS.forest.nEstimators, depth: TRAINING_PARAMS.forest.maxDepth, jobs: 2 };

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      smoke: { type: "boolean", default: false },
      out: { type: "string" },
      data: { type: "string" },
      work: { type: "string" },
      seeds: { type: "string" },
      "max-epochs": { type: "string" },
      workers: { type: "string", default: "2" },
      "embed-only": { type: "boolean", default: false },
      "audio-views": { type: "string" },
      "image-views": { type: "string" },
      only: { type: "string" },
      "models-metrics": { type: "string" },
      loso: { type: "boolean", default: false },
      levers: { type: "string" },
      grouped: { type: "string", default: "4" },
    },
  });
  const t0 = performance.now();
  const smoke = values.smoke!;
  if (smoke && !values.out) throw new Error("--smoke writes a toy report: give it an --out folder");
  const out = resolve(values.out ?? join(REPO_ROOT, "reports", "latest"));
  const { cacheDir, weightsDir, sharedDir, dataDir, corpusDir, modelsDir } = loadConfig();
  const python = await requirePython(["torch", "sklearn", "onnx", "numpy", "matplotlib"], "The report");
  const seedCount = Number(values.seeds ?? (smoke ? 2 : 3));
  const seeds = Array.from({ length: seedCount }, (_, i) => 1234 + i);
  const workers = Number(values.workers);
  // Fewer augmented views than training's 4 audio / 2 image by default: extraction dominates the run
  // time on 2 cores (the rows are shared with training's cache, which holds the others when trained).
  const audioViews = Number(values["audio-views"] ?? 1), imageViews = Number(values["image-views"] ?? 1);
  const viewSeed = 1234;
  if (values.loso) {
    await losoPart(python, out, {
      levers: values.levers,
      grouped: Number(values.grouped),
      workers,
      dataDir: resolve(values.data ?? dataDir),
    });
    return;
  }

  // 1. Dataset.
  const roots = { dataDir: resolve(values.data ?? dataDir), corpusDir };
  let items: ManifestItem[], datasetPath: string;
  if (smoke) {
    datasetPath = join(roots.corpusDir, "manifest.csv");
    items = smokeReportItems(smokeItems(await Deno.readTextFile(datasetPath)));
  } else {
    datasetPath = join(roots.dataDir, "manifest.jsonl");
    try {
      items = await readManifest(datasetPath);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      throw new Error(`No dataset at ${datasetPath}: build it first with \`${denoTask("data")}\``);
    }
  }
  const datasetSha = await sha256Hex(await Deno.readFile(datasetPath));
  const embedItems = toEmbedItems(items, roots);
  console.log(`report: ${items.length} dataset items from ${datasetPath}${smoke ? " (smoke slice)" : ""}`);

  // 2. Embeddings (cached; shared with deno task train).
  const imageNames: readonly string[] = smoke ? ["mobilenet_v2"] : IMAGE;
  const encoders = await ensureEncoders({ names: ["yamnet", ...imageNames], cacheDir });
  const work = resolve(values.work ?? (smoke ? join(out, ".work") : join(cacheDir, "report")));
  const cacheRoot = smoke ? join(work, "embeddings") : join(cacheDir, "embeddings");
  const tEmbed = performance.now();
  const extracted: Record<string, ExtractResult> = {};
  // --only a,b (with --embed-only): warm some caches, e.g. while a training run writes others.
  const only = values.only ? new Set(values.only.split(",")) : null;
  const extract = async (
    name: string,
    encoder: string,
    views: number,
    output: "embedding" | "scores" | "log_mel_stats",
    extra: { roles?: string[]; scoresDim?: number; withScores?: boolean } = {},
  ) => {
    if (only && !only.has(name)) return;
    extracted[name] = await extractEmbeddings({
      items: embedItems,
      encoder: encoders[encoder]!,
      cacheRoot,
      views,
      seed: viewSeed,
      workers,
      output,
      ...extra,
    });
  };
  // The served pair first (the training run has usually cached it), then the cheap extras.
  const audioClasses = join(weightsDir, encoders.yamnet!.card.outputs.scores!.labels);
  // The served pair's folders as `deno task train` fills them (audio rows carry YAMNet's scores).
  await extract("audio:yamnet", "yamnet", audioViews, "embedding", {
    withScores: true,
    scoresDim: await countClasses(audioClasses),
  });
  await extract("image:mobilenet_v2", "mobilenet_v2", imageViews, "embedding");
  const scoreRoles = ["classify-test", "heldout"];
  const imageClasses = join(weightsDir, encoders.mobilenet_v2!.card.outputs.scores!.labels);
  await extract("scores:yamnet", "yamnet", 0, "scores", {
    roles: scoreRoles,
    scoresDim: await countClasses(audioClasses),
  });
  await extract("scores:mobilenet_v2", "mobilenet_v2", 0, "scores", {
    roles: scoreRoles,
    scoresDim: await countClasses(imageClasses),
  });
  // The encoder-pair comparison uses original items only (no augmented views, no heldout), the
  // same protocol for every pair, which keeps the extra encoders cheap to extract.
  const pairRoles = ROLES.filter((r) => r !== "heldout");
  await extract("audio:log_mel_stats", AUDIO.log_mel_stats.encoder, 0, "log_mel_stats", { roles: pairRoles });
  for (const name of imageNames.filter((n) => n !== SERVED.image)) {
    await extract(`image:${name}`, name, 0, "embedding", { roles: pairRoles });
  }
  const embedSeconds = (performance.now() - tEmbed) / 1000;
  const failed = Object.values(extracted).flatMap((r) => r.failed);
  if (values["embed-only"]) return;

  // 3. Experiments (Python), in a work folder keyed by the embeddings and settings.
  const translator = {
    ...TRANSLATOR,
    maxEpochs: Number(values["max-epochs"] ?? (smoke ? 3 : TRANSLATOR.maxEpochs)),
  };
  const forest = smoke ? { ...FOREST, trees: 20 } : FOREST;
  const dirOf = (k: string) => extracted[k]!.dir;
  const audio = Object.fromEntries(Object.keys(AUDIO).map((n) => [n, dirOf(`audio:${n}`)]));
  const image = Object.fromEntries(imageNames.map((n) => [n, dirOf(`image:${n}`)]));
  const rows = Object.fromEntries(Object.entries(extracted).map(([k, r]) => [k, r.rows]));
  const key = (await sha256Hex(
    new TextEncoder().encode(JSON.stringify({ audio, image, rows, translator, forest, datasetSha })),
  )).slice(0, 8);
  const runWork = join(work, key);
  await Deno.mkdir(out, { recursive: true });
  await Deno.mkdir(runWork, { recursive: true });
  const config = {
    labels: [...LABELS],
    audio,
    image,
    served: SERVED,
    scores: {
      audio: { model: "yamnet (AudioSet, 521 classes)", dir: dirOf("scores:yamnet"), classes: audioClasses },
      image: {
        model: "mobilenet_v2 (ImageNet, 1001 classes)",
        dir: dirOf("scores:mobilenet_v2"),
        classes: imageClasses,
      },
    },
    seeds,
    views: { audio: audioViews, image: imageViews },
    translator,
    pca: PCA,
    forest,
    smoke,
    ontology: join(sharedDir, "ontology", "ontology.json"),
    work: runWork,
    out,
  };
  const configPath = join(runWork, "config.json");
  await Deno.writeTextFile(configPath, JSON.stringify(config, null, 2) + "\n");
  await runPython(python, "experiments.py", [configPath]);

  // 4. Figures and report.md; metadata the Python side cannot know.
  const meta = {
    command: smoke ? denoTask(`report --smoke --out ${relative(REPO_ROOT, out)}`) : denoTask("report"),
    deno: Deno.version.deno,
    gitCommit: await git(["rev-parse", "--short", "HEAD"]),
    gitDirty: (await git(["status", "--porcelain", "--", "scripts/report", "scripts/train", "lib"])) !== "",
    date: new Date().toISOString(),
    dataset: { path: relative(REPO_ROOT, datasetPath), sha256: datasetSha, items: items.length },
    encoders: Object.fromEntries(
      Object.entries(encoders).map(([n, e]) => [n, { file: e.card.file, sha256: e.card.sha256 }]),
    ),
    embeddings: Object.fromEntries(
      Object.entries(extracted).map((
        [k, r],
      ) => [k, { dir: relative(REPO_ROOT, r.dir), rows: r.rows, computed: r.computed }]),
    ),
    embedSeconds: Math.round(embedSeconds),
    views: { audio: audioViews, image: imageViews, seed: viewSeed },
    failedItems: failed,
    machine: `${navigator.hardwareConcurrency} CPU threads`,
  };
  await Deno.writeTextFile(join(runWork, "meta.json"), JSON.stringify(meta, null, 2) + "\n");
  await runPython(python, "report.py", [
    configPath,
    join(runWork, "meta.json"),
    String((performance.now() - t0) / 1000),
  ]);

  // 5. Headline numbers for /v1/models.
  const metrics = JSON.parse(await Deno.readTextFile(join(out, "metrics.json")));
  const modelsMetrics = values["models-metrics"] ??
    (smoke ? join(out, "models-metrics.json") : join(modelsDir, "metrics.json"));
  await Deno.writeTextFile(modelsMetrics, JSON.stringify(await headline(metrics, meta, out), null, 2) + "\n");
  if (!smoke) await updateReadme(join(REPO_ROOT, "README.md"), await Deno.readTextFile(join(out, "headline.md")));
  console.log(
    `report: wrote ${relative(REPO_ROOT, out)}/report.md and ${relative(REPO_ROOT, modelsMetrics)} in ${
      Math.round((performance.now() - t0) / 1000)
    } s`,
  );
}

/**
 * `--loso`: the lever screen (optional) and the LOSO section, from the training run's cache, folds
 * and `models/loso.json`. Embeddings are extracted exactly as `deno task train` does (cached rows are
 * reused; views only as many as the screened levers train on).
 */
async function losoPart(
  python: string,
  out: string,
  opts: { levers?: string | undefined; grouped: number; workers: number; dataDir: string },
) {
  const { cacheDir, weightsDir, corpusDir, modelsDir } = loadConfig();
  if (opts.levers) {
    const spec = JSON.parse(await Deno.readTextFile(join(REPO_ROOT, "scripts", "train", "levers.json")));
    const wanted: {
      name: string;
      recipe: { views?: number; sourceViews?: number; frames?: string; finetune?: number };
    }[] = spec.levers
      .filter((l: { name: string }) => opts.levers === "all" || opts.levers!.split(",").includes(l.name));
    if (wanted.length === 0) throw new Error(`--levers ${opts.levers}: no such lever in scripts/train/levers.json`);
    const items = await readManifest(join(opts.dataDir, "manifest.jsonl"));
    const embedItems = toEmbedItems(items, { dataDir: opts.dataDir, corpusDir });
    const views = Math.max(0, ...wanted.map((l) => l.recipe.views ?? spec.base.views ?? 0));
    const sourceViews = Math.max(0, ...wanted.map((l) => l.recipe.sourceViews ?? spec.base.sourceViews ?? 0));
    const encoders = await ensureEncoders({ names: [SERVED.audio, SERVED.image], cacheDir });
    const audioEnc = encoders[SERVED.audio]!, imageEnc = encoders[SERVED.image]!;
    const audioClasses = join(weightsDir, audioEnc.card.outputs.scores!.labels);
    const imageClasses = join(weightsDir, imageEnc.card.outputs.scores!.labels);
    const common = { items: embedItems, cacheRoot: join(cacheDir, "embeddings"), seed: 1234, workers: opts.workers };
    const audio = await extractEmbeddings({
      ...common,
      encoder: audioEnc,
      views,
      sourceViews,
      withScores: true,
      scoresDim: await countClasses(audioClasses),
    });
    const image = await extractEmbeddings({ ...common, encoder: imageEnc, views: 0 });
    // Frame-level levers read one row per YAMNet patch (and the activations their fine-tuning trains on).
    const byPatch = wanted.some((l) => l.recipe.frames || l.recipe.finetune);
    const patches = byPatch
      ? await extractPatches({
        items: embedItems,
        encoder: audioEnc,
        cacheRoot: common.cacheRoot,
        python,
        workers: opts.workers,
      })
      : undefined;
    const work = join(cacheDir, "report", "loso");
    await Deno.mkdir(work, { recursive: true });
    await Deno.writeTextFile(join(work, "folds.json"), JSON.stringify(losoFolds(items), null, 1) + "\n");
    await runPython(python, join("..", "train", "levers.py"), [
      ...["--audio", audio.dir, "--image", image.dir, "--folds", join(work, "folds.json")],
      ...["--labels", JSON.stringify(LABELS), "--levers", join(REPO_ROOT, "scripts", "train", "levers.json")],
      ...["--out", join(out, "loso_levers.json"), "--grouped", String(opts.grouped)],
      ...["--only", wanted.map((l) => l.name).join(","), "--seed", "1234"],
      ...["--image-encoder", imageEnc.onnxPath, "--image-classes", imageClasses],
      ...["--audio-encoder", audioEnc.onnxPath, "--audio-classes", audioClasses],
      ...(patches ? ["--audio-patches", patches.dir] : []),
    ]);
  }
  await runPython(python, "loso_section.py", [join(modelsDir, "loso.json"), out]);
}

/** The smoke slice plus copies of its classify-test items as `retrieval` and `heldout` items. */
function smokeReportItems(items: ManifestItem[]): ManifestItem[] {
  const test = items.filter((i) => i.split === "classify-test");
  return [
    ...items,
    ...test.map((i) => ({ ...i, split: "retrieval" as const })),
    ...test.map((i) => ({ ...i, split: "heldout" as const })),
  ];
}

/** A mean ± std summary as experiments.py writes it. */
interface MeanStd {
  mean: number | null;
  std: number | null;
}

/** The parts of metrics.json (written by experiments.py) that the headline quotes. */
interface ReportMetrics {
  config: { seeds: number[] };
  pairs: {
    served_pair: string;
    best_pair: string;
    pairs: Record<string, { ndcg_a2i: MeanStd; ndcg_i2a: MeanStd; random_a2i: number }>;
  };
  classifiers: { table: Record<string, Record<string, MeanStd>> };
  curves: { zero_shot: Record<string, { fraction_of_best: MeanStd } | undefined> };
}

/** Headline metrics the service quotes (models/metrics.json). */
async function headline(metrics: ReportMetrics, meta: Record<string, unknown>, out: string) {
  let modelVersion: string | null = null;
  try {
    modelVersion = JSON.parse(await Deno.readTextFile(join(loadConfig().modelsDir, "manifest.json"))).version ?? null;
  } catch {
    modelVersion = null;
  }
  const pairs = metrics.pairs;
  const served = pairs.pairs[pairs.served_pair];
  if (!served) throw new Error(`metrics.json has no results for the served pair ${pairs.served_pair}`);
  const table = metrics.classifiers.table;
  const pick = (name: string, test: string) => {
    const v = table[name]?.[test];
    return v ? { mean: v.mean, std: v.std } : null;
  };
  return {
    format: "amodal-report-metrics/1",
    report: relative(REPO_ROOT, join(out, "report.md")),
    generated: meta.date,
    modelVersionAtReport: modelVersion,
    seeds: metrics.config.seeds,
    note:
      "classifiers trained on classify-train and tested on classify-test (paper protocol), mean and std over seeds; " +
      "the served forest is trained on all labelled data (see models/manifest.json metrics)",
    encoders: pairs.served_pair,
    retrievalNdcg30: {
      audioToImage: served.ndcg_a2i,
      imageToAudio: served.ndcg_i2a,
      randomAudioToImage: served.random_a2i,
    },
    macroF1: Object.fromEntries(
      ["SMA", "SMI", "MMP", "MMT"].map((n) => [n, { audio: pick(n, "audio"), photos: pick(n, "image/photo") }]),
    ),
    zeroShotFractionOfBest: {
      photos: metrics.curves.zero_shot.photo?.fraction_of_best ?? null,
      audio: metrics.curves.zero_shot.audio?.fraction_of_best ?? null,
    },
    bestPairByNdcg: pairs.best_pair,
  };
}

/** Replaces the README block between `<!-- report:start -->` and `<!-- report:end -->`, if it has one. */
async function updateReadme(path: string, block: string) {
  const text = await Deno.readTextFile(path);
  const start = "<!-- report:start (written by deno task report) -->", end = "<!-- report:end -->";
  const i = text.indexOf(start), j = text.indexOf(end);
  if (i < 0 || j < i) return;
  await Deno.writeTextFile(path, text.slice(0, i + start.length) + "\n\n" + block.trim() + "\n\n" + text.slice(j));
  // `deno task check` runs fmt --check over README.md: pad the table the way fmt does.
  await new Deno.Command(Deno.execPath(), { args: ["fmt", path], cwd: REPO_ROOT, stdout: "null", stderr: "null" })
    .output();
}

async function git(args: string[]): Promise<string> {
  try {
    const r = await new Deno.Command("git", { args, cwd: REPO_ROOT, stdout: "piped", stderr: "null" }).output();
    return new TextDecoder().decode(r.stdout).trim();
  } catch {
    return "";
  }
}

async function runPython(python: string, script: string, args: string[]) {
  const proc = await new Deno.Command(python, {
    args: [join(HERE, script), ...args],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!proc.success) throw new Error(`report: ${script} failed (exit ${proc.code}); see its output above`);
}

if (import.meta.main) await main();
