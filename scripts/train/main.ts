/**
 * `deno task train`: dataset -> embeddings -> leave-one-source-out evaluation -> served joint model -> `models/`.
 *
 * 1. Embeddings of every dataset item (and augmented views of the training splits) through the
 *    service's own decode/preprocess/encoder code, cached under `.cache/embeddings/` (embed.ts).
 * 2. PCA baseline (pca.py). 3. Leave-one-source-out folds (loso_folds.ts) and, for each, the joint
 *    recipe of params.json `joint` (translator + classifier head, loso.py) trained without the
 *    held-out source and tested on it. 4. The same recipe on every trainable row: the served
 *    translator heads and head (loso.py --serve). Python stages run in a work folder keyed by the
 *    embeddings and hyper-parameters (`.cache/train/<key>/`); a finished stage is not re-run.
 * 5. The artifacts are copied to the output folder with `manifest.json` (sha256 of each file,
 *    encoders, dataset hash, seeds, hyper-parameters, timings, LOSO and classify-test metrics),
 *    `loso.json` (per source), the LOSO block of `metrics.json`, and the report's LOSO section
 *    (`reports/latest/loso.md` and figures). The paper's SMA/SMI/MMP/MMT table is the report's
 *    (`deno task report`, which still trains translate.py's translator and forests.py's forests).
 *
 * Flags: `--smoke` trains every stage on a tiny slice of the corpus (seconds; for CI) and needs
 * `--out`; `--embed-only` stops after stage 1; `--out DIR` (default `models/`), `--data DIR` (default env `AMODAL_DATA_DIR` or
 * `data/`), `--seed N`, `--audio-views N`, `--image-views N`, `--workers N`, `--work DIR`.
 * Python: env `AMODAL_PYTHON` (default `/usr/bin/python3`) with torch, sklearn, onnx (scripts/setup/requirements.json).
 *
 * @module
 */
import { denoTask, loadConfig, REPO_ROOT } from "../../lib/config.ts";
import TRAINING_PARAMS from "./params.json" with { type: "json" };
import { requirePython } from "../setup/python.ts";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type ManifestItem, readManifest } from "../dataset/manifest.ts";
import { LABELS } from "../../lib/labels.ts";
import { sha256Hex } from "../../lib/joint/artifact.ts";
import type { ModelManifest } from "../../lib/joint/model_manifest.ts";
import { ensureEncoders } from "../../lib/weights/ensure_encoders.ts";
import { AUGMENT_VERSION, countClasses, extractEmbeddings, toEmbedItems } from "../embed/extract.ts";
import { exportParityFixture, PARITY_FIXTURE_DIR } from "./export_parity_fixture.ts";
import { smokeItems } from "./smoke_items.ts";
import { type LosoFolds, losoFolds, SAMPLE_FAMILIES } from "./loso_folds.ts";
import { existsSync } from "node:fs";

const HERE = dirname(fileURLToPath(import.meta.url));

/** Hyper-parameters, one file for training and the report; passed to every Python stage explicitly. */
const HYPER = TRAINING_PARAMS;

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      smoke: { type: "boolean", default: false },
      out: { type: "string" },
      data: { type: "string" },
      work: { type: "string" },
      seed: { type: "string", default: "1234" },
      "audio-views": { type: "string" },
      "image-views": { type: "string" },
      workers: { type: "string", default: "2" },
      "embed-only": { type: "boolean", default: false },
    },
  });
  const t0 = performance.now();
  const config = loadConfig();
  const smoke = values.smoke!;
  if (smoke && !values.out) throw new Error("--smoke writes a toy model: give it an --out folder (not models/)");
  const out = resolve(values.out ?? config.modelsDir);
  const seed = Number(values.seed);
  // Augmented views: as many as the recipe trains on (more may be cached; loso.py filters by view).
  const audioViews = Number(values["audio-views"] ?? (smoke ? 1 : HYPER.joint.views));
  const imageViews = Number(values["image-views"] ?? (smoke ? 1 : HYPER.joint.views));
  const workers = Number(values.workers);
  const python = await requirePython(["torch", "sklearn", "onnx", "numpy"], "Training");

  // 1. Dataset items.
  let items: ManifestItem[];
  let datasetSha: string;
  let datasetPath: string;
  const roots = { dataDir: resolve(values.data ?? config.dataDir), corpusDir: config.corpusDir };
  if (smoke) {
    datasetPath = join(roots.corpusDir, "manifest.csv");
    const text = await Deno.readTextFile(datasetPath);
    items = smokeItems(text);
    datasetSha = await sha256Hex(new TextEncoder().encode(text));
  } else {
    datasetPath = join(roots.dataDir, "manifest.jsonl");
    if (!existsSync(datasetPath)) {
      throw new Error(`No dataset at ${datasetPath}: build it first with \`${denoTask("data")}\``);
    }
    items = await readManifest(datasetPath);
    datasetSha = await sha256Hex(await Deno.readFile(datasetPath));
  }
  const embedItems = toEmbedItems(items, roots);
  console.log(`train: ${items.length} dataset items from ${datasetPath}${smoke ? " (smoke slice)" : ""}`);

  // 2. Encoders and embeddings.
  const encoders = await ensureEncoders({
    names: [config.audioEncoder, config.imageEncoder],
    cacheDir: config.cacheDir,
  });
  const audioEnc = encoders[config.audioEncoder]!, imageEnc = encoders[config.imageEncoder]!;
  const cacheRoot = smoke ? join(out, ".work", "embeddings") : join(config.cacheDir, "embeddings");
  const tEmbed = performance.now();
  // YAMNet's own AudioSet scores ride along with each audio row (same run): the recipe's AudioSet prior.
  const audioClasses = join(config.weightsDir, audioEnc.card.outputs.scores?.labels ?? "yamnet_class_map.csv");
  const audio = await extractEmbeddings({
    items: embedItems,
    encoder: audioEnc,
    withScores: true,
    scoresDim: await countClasses(audioClasses),
    cacheRoot,
    views: audioViews,
    // The second augmentation family (augment_source.ts), when the recipe trains on it.
    sourceViews: smoke ? 0 : (HYPER.joint as { sourceViews?: number }).sourceViews ?? 0,
    seed,
    workers,
  });
  const tEmbedAudio = performance.now();
  const image = await extractEmbeddings({
    items: embedItems,
    encoder: imageEnc,
    cacheRoot,
    views: imageViews,
    seed,
    workers,
  });
  const tEmbedDone = performance.now();
  if (values["embed-only"]) return;

  // 3-5. Python stages in a work folder keyed by their inputs.
  const key = (await sha256Hex(
    new TextEncoder().encode(
      JSON.stringify({ a: audio.dir, i: image.dir, HYPER, seed, audio: audio.rows, image: image.rows, smoke }),
    ),
  )).slice(0, 8);
  const work = resolve(values.work ?? (smoke ? join(out, ".work", "train") : join(config.cacheDir, "train", key)));
  await Deno.mkdir(work, { recursive: true });
  const labels = JSON.stringify(LABELS);
  const common = ["--audio", audio.dir, "--image", image.dir];
  const stageSeconds: Record<string, number> = {};
  const recipe = { ...HYPER.joint, ...(smoke ? SMOKE_RECIPE : {}) };
  const folds = losoFolds(items);
  await Deno.writeTextFile(join(work, "folds.json"), JSON.stringify(folds, null, 1) + "\n");
  // The image encoder's own ImageNet classifier is the zero-shot prior for photos (recipe `imagenetPrior`).
  const imageClasses = join(config.weightsDir, imageEnc.card.outputs.scores?.labels ?? "imagenet_labels.txt");
  const losoArgs = [
    ...common,
    "--folds",
    join(work, "folds.json"),
    "--labels",
    labels,
    "--seed",
    String(seed),
    "--image-encoder",
    imageEnc.onnxPath,
    "--image-classes",
    imageClasses,
    // YAMNet's own AudioSet classifier is the zero-shot prior for audio (recipe `audiosetPrior`).
    "--audio-encoder",
    audioEnc.onnxPath,
    "--audio-classes",
    audioClasses,
  ];
  await stage(python, "pca", join(work, "pca.json"), stageSeconds, [
    ...common,
    "--work",
    work,
    "--dim",
    String(HYPER.pca.dim),
    "--seed",
    String(seed),
  ]);
  // Every fold retrains translator and head from scratch: the criterion of every choice.
  await stage(python, "loso", join(work, "loso.json"), stageSeconds, [
    ...losoArgs,
    "--config",
    JSON.stringify(recipe),
    "--out",
    join(work, "loso.json"),
  ], "loso (leave-one-source-out)");
  // The served model: the same recipe on every trainable row.
  await stage(python, "loso", join(work, "serve.json"), stageSeconds, [
    ...losoArgs,
    "--config",
    JSON.stringify(recipe),
    "--out",
    join(work, "serve.json"),
    "--serve",
    work,
  ], "serve");

  // 6. Artifacts and manifest.
  await Deno.mkdir(out, { recursive: true });
  const artifact = async (file: string) => {
    const bytes = await Deno.readFile(join(work, file));
    await Deno.writeFile(join(out, file), bytes);
    return { file, sha256: await sha256Hex(bytes), bytes: bytes.length };
  };
  const served = JSON.parse(await Deno.readTextFile(join(work, "serve.json")));
  const losoRun = JSON.parse(await Deno.readTextFile(join(work, "loso.json")));
  const losoModel = losoDocument(losoRun, folds);
  const head = await artifact("head.json");
  const translator = async (modality: "audio" | "image", enc: typeof audioEnc) => ({
    ...(await artifact(`translator_${modality}.onnx`)),
    input: modality,
    output: `${modality}_joint`,
    dimIn: enc.card.outputs.embedding.dim,
    dim: recipe.dim,
    encoder: enc.card.name,
  });
  const artifacts = {
    translator_audio: await translator("audio", audioEnc),
    translator_image: await translator("image", imageEnc),
    pca: await artifact("pca.json"),
    head,
  };
  // Old models folders held forest.json; the manifest no longer names it.
  if (!smoke) await Deno.remove(join(out, "forest.json")).catch(() => {});
  const onnxSha = async (p: string) => await sha256Hex(await Deno.readFile(p));
  const counts: Record<string, number> = {};
  for (const i of items) {
    counts[`${i.split}/${i.modality}/${i.domain}`] = (counts[`${i.split}/${i.modality}/${i.domain}`] ?? 0) + 1;
  }
  const totalBytes = Object.values(artifacts).reduce((s, a) => s + a.bytes, 0);
  const classifyTest: Record<string, number> = Object.fromEntries(
    Object.entries(served.classify_test as Record<string, { macro_f1: number }>).map(([k, v]) => [k, v.macro_f1]),
  );
  const manifest: ModelManifest = {
    format: "amodal-models/1",
    version: `mmt-${new Date().toISOString().slice(0, 10)}-${head.sha256.slice(0, 8)}${smoke ? "-smoke" : ""}`,
    created: new Date().toISOString(),
    rebuild: denoTask("train"),
    smoke,
    labels: [...LABELS],
    artifacts,
    artifactBytes: totalBytes,
    encoders: {
      audio: { name: audioEnc.card.name, sha256: audioEnc.card.sha256, onnxSha256: await onnxSha(audioEnc.onnxPath) },
      image: { name: imageEnc.card.name, sha256: imageEnc.card.sha256, onnxSha256: await onnxSha(imageEnc.onnxPath) },
    },
    dataset: {
      manifest: smoke ? "corpus/manifest.csv (smoke slice)" : basename(roots.dataDir) + "/manifest.jsonl",
      sha256: datasetSha,
      items: counts,
    },
    seeds: { augmentation: seed, translator: seed, head: seed },
    hyper: {
      pca: HYPER.pca,
      joint: {
        ...recipe,
        loss: "contrastive hinge on cosine, in-batch negatives of other labels, both directions" +
          (recipe.prototypeWeight > 0 ? " + label-prototype cross-entropy" : ""),
        trainedOn: `every split but ${folds.neverTrain.join(", ")} (and ${
          folds.notUsed.join(", ")
        }), views <= ${recipe.views}`,
      },
      augmentation: { audioViews, imageViews, version: AUGMENT_VERSION },
    },
    timings: {
      embedAudioSeconds: round((tEmbedAudio - tEmbed) / 1000),
      embedImageSeconds: round((tEmbedDone - tEmbedAudio) / 1000),
      embedRowsComputed: { audio: audio.computed, image: image.computed },
      embedRowsPerSecond: {
        audio: audio.seconds ? round(audio.computed / audio.seconds) : null,
        image: image.seconds ? round(image.computed / image.seconds) : null,
      },
      stageSeconds: { ...stageSeconds, serveFit: served.fit_seconds, losoFolds: losoRun.seconds },
      totalSeconds: round((performance.now() - t0) / 1000),
      note: "stages found finished in the work folder are not re-run and report no seconds here",
    },
    embeddingRows: { audio: audio.rows, image: image.rows },
    failedItems: [...audio.failed, ...image.failed],
    metrics: {
      loso: losoModel.summary,
      classifyTest,
      rows: served.rows,
      head: served.head,
    },
  };
  await Deno.writeTextFile(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  await Deno.writeTextFile(
    join(out, "loso.json"),
    JSON.stringify({ ...losoModel, modelVersion: manifest.version }) + "\n",
  );
  if (!smoke) await mergeMetrics(join(out, "metrics.json"), manifest.version, losoModel);
  // The report's LOSO section and figures (report.py includes the same section in a full report).
  const reportOut = smoke ? join(out, ".work", "report") : join(REPO_ROOT, "reports", "latest");
  await runPython(python, join(HERE, "..", "report", "loso_section.py"), [join(out, "loso.json"), reportOut]);
  // Parity dumps (PyTorch / scikit-learn / numpy outputs) for the tests, keyed by the head they belong to.
  const parity = smoke ? join(work, "parity") : join(config.cacheDir, "train", "parity", head.sha256.slice(0, 8));
  if (!smoke) await copyDir(join(work, "parity"), parity);
  console.log(`train: parity dumps for the tests in ${parity}`);
  // The committed slice of them, tied to these models, so the parity tests run without the cache.
  if (!smoke && out === resolve(config.modelsDir)) {
    await exportParityFixture(parity, out, PARITY_FIXTURE_DIR);
    console.log(`train: parity fixture in ${PARITY_FIXTURE_DIR} (commit it with models/)`);
  }
  console.log(
    `train: wrote ${Object.keys(artifacts).length} artifacts (${
      (totalBytes / 1e6).toFixed(2)
    } MB) and manifest.json to ${out}`,
  );
  printSummary(losoModel.summary, classifyTest);
}

/** Smoke runs: a few epochs and trees, so CI trains every stage in seconds. */
const SMOKE_RECIPE = { epochs: 3, trees: 10, mlpEpochs: 5 };

/**
 * `models/loso.json`: the LOSO run without per-row predictions: per fold macro-F1 and per-label F1,
 * the summary, and the confusion matrix of real recordings (summed over recording folds).
 */
function losoDocument(run: LosoRun, folds: LosoFolds) {
  const n = LABELS.length;
  const counts = Array.from({ length: n }, () => new Array<number>(n).fill(0));
  for (const f of run.folds) {
    if (f.domain !== "recording") continue;
    f.y.forEach((y, i) => counts[y]![f.pred[i]!]!++);
  }
  return {
    format: "amodal-loso/1",
    recipe: run.config,
    seed: run.seed,
    families: SAMPLE_FAMILIES,
    neverTrain: folds.neverTrain,
    summary: run.summary,
    folds: run.folds.map(({ y: _y, pred: _p, ...rest }) => rest),
    confusion: { recording: { labels: [...LABELS], counts } },
    zero_shot_photo_labels: zeroShotLabels(run),
    seconds: run.seconds,
  };
}

/**
 * Zero-shot photo numbers. Labels no photo source has (cymbals, organ, synthesizer, voice): no true
 * photo exists, so only false alarms on other photos and F1 on the held-out drawings can be given.
 * Labels whose photos all come from one source (ukulele, cello in this dataset): their photo F1 in
 * that source's fold is zero-shot for photos (the fold trained on no photo of them).
 */
function zeroShotLabels(run: LosoRun) {
  const photoFolds = run.folds.filter((f) => f.domain === "photo");
  const labels: Record<
    string,
    { photo_f1: number | null; photo_fold: string | null; drawing_f1: number | null; photos_predicted: number }
  > = {};
  const drawing = run.folds.find((f) => f.domain === "drawing");
  for (const label of LABELS) {
    const c = LABELS.indexOf(label);
    const withPhotos = photoFolds.filter((f) => label in f.per_label);
    if (withPhotos.length > 1) continue;
    labels[label] = {
      photo_f1: withPhotos[0]?.per_label[label] ?? null,
      photo_fold: withPhotos[0]?.name ?? null,
      drawing_f1: drawing?.per_label[label] ?? null,
      photos_predicted: photoFolds.reduce((s, f) => s + f.pred.filter((p, i) => p === c && f.y[i] !== c).length, 0),
    };
  }
  return {
    note: "Labels with no photo source (photo F1 –) or photos from one source only (photo F1 in that source's fold, " +
      'where no photo of the label was trained on). "photos called this label": photos of other labels the held-out ' +
      "photo folds gave this label (false alarms). Drawing F1: in the drawings fold, where no drawing was trained on.",
    labels,
  };
}

/** What loso.py writes (the fields used here). */
interface LosoRun {
  config: Record<string, unknown>;
  seed: number;
  summary: Record<string, { mean: number; folds: number }>;
  folds: {
    name: string;
    domain: string;
    y: number[];
    pred: number[];
    per_label: Record<string, number>;
    [k: string]: unknown;
  }[];
  seconds: number;
}

/** Puts the LOSO summary into models/metrics.json (written by `deno task report`), keeping its other fields. */
async function mergeMetrics(path: string, version: string, loso: ReturnType<typeof losoDocument>) {
  let metrics: Record<string, unknown> = {};
  try {
    metrics = JSON.parse(await Deno.readTextFile(path));
  } catch {
    metrics = { format: "amodal-report-metrics/1" };
  }
  metrics.leaveOneSourceOut = {
    modelVersion: version,
    note: "macro-F1 per held-out source (translator and head retrained without it), mean over sources; " +
      "see models/loso.json and the report's leave-one-source-out section",
    mean: loso.summary,
    perSource: Object.fromEntries(loso.folds.map((f) => [f.name, Math.round((f.macro_f1 as number) * 1e4) / 1e4])),
  };
  await Deno.writeTextFile(path, JSON.stringify(metrics, null, 2) + "\n");
}

async function runPython(python: string, script: string, args: string[]) {
  const proc = await new Deno.Command(python, { args: [script, ...args], stdout: "inherit", stderr: "inherit" })
    .output();
  if (!proc.success) throw new Error(`train: ${script} failed (exit ${proc.code}); see its output above`);
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

async function copyDir(from: string, to: string) {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) if (e.isFile) await Deno.copyFile(join(from, e.name), join(to, e.name));
}

/** Runs one Python stage (`<script>.py`) unless its output already exists. */
async function stage(
  python: string,
  script: string,
  output: string,
  seconds: Record<string, number>,
  args: string[],
  name = script,
) {
  if (existsSync(output)) {
    console.log(`train: ${name}: done already (${output})`);
    return;
  }
  const t = performance.now();
  const proc = await new Deno.Command(python, {
    args: [join(HERE, `${script}.py`), ...args],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!proc.success) throw new Error(`train: stage ${name} failed (exit ${proc.code}); see its output above`);
  seconds[name] = round((performance.now() - t) / 1000);
}

function printSummary(loso: Record<string, { mean: number; folds: number }>, classifyTest: Record<string, number>) {
  console.log(
    "leave-one-source-out mean macro-F1: " +
      Object.entries(loso).map(([k, v]) => `${k} ${v.mean.toFixed(3)} (${v.folds} sources)`).join(", "),
  );
  console.log(
    "served model on classify-test: " + Object.entries(classifyTest).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(", "),
  );
}

if (import.meta.main) await main();
