/**
 * `deno task train`: dataset -> embeddings -> translator -> PCA -> forests -> `models/`.
 *
 * 1. Embeddings of every dataset item (and augmented views of the training splits) through the
 *    service's own decode/preprocess/encoder code, cached under `.cache/embeddings/` (embed.ts).
 * 2. Translator heads (translate.py, PyTorch), 3. PCA baseline (pca.py), 4. forests SMA / SMI /
 *    MMP / MMT, zero-shot and the served MMT forest (forests.py), in a work folder keyed by the
 *    embeddings and hyper-parameters (`.cache/train/<key>/`); a finished stage is not re-run.
 * 5. The artifacts are copied to the output folder with `manifest.json` (sha256 of each file,
 *    encoders, dataset hash, seeds, hyper-parameters, timings, test metrics).
 *
 * Flags: `--smoke` trains every stage on a tiny slice of the corpus (seconds; for CI) and needs
 * `--out`; `--embed-only` stops after stage 1; `--out DIR` (default `models/`), `--data DIR` (default env `AMODAL_DATA_DIR` or
 * `data/`), `--seed N`, `--audio-views N`, `--image-views N`, `--workers N`, `--work DIR`.
 * Python: env `AMODAL_PYTHON` (default `/usr/bin/python3`) with torch, sklearn, onnx (scripts/setup/requirements.json).
 *
 * @module
 */
import { denoTask, loadConfig } from "../../lib/config.ts";
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
import { AUGMENT_VERSION, extractEmbeddings, toEmbedItems } from "../embed/extract.ts";
import { exportParityFixture, PARITY_FIXTURE_DIR } from "./export_parity_fixture.ts";
import { smokeItems } from "./smoke_items.ts";
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
  const audioViews = Number(values["audio-views"] ?? (smoke ? 1 : 4));
  const imageViews = Number(values["image-views"] ?? (smoke ? 1 : 2));
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
  const audio = await extractEmbeddings({
    items: embedItems,
    encoder: audioEnc,
    cacheRoot,
    views: audioViews,
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

  // 3-4. Python stages in a work folder keyed by their inputs.
  const key = (await sha256Hex(
    new TextEncoder().encode(
      JSON.stringify({ a: audio.dir, i: image.dir, HYPER, seed, audio: audio.rows, image: image.rows }),
    ),
  )).slice(0, 8);
  const work = resolve(values.work ?? (smoke ? join(out, ".work", "train") : join(config.cacheDir, "train", key)));
  await Deno.mkdir(work, { recursive: true });
  const labels = JSON.stringify(LABELS);
  const common = ["--audio", audio.dir, "--image", image.dir, "--work", work];
  const stageSeconds: Record<string, number> = {};
  const t = HYPER.translator;
  await stage(python, "translate", join(work, "translator.json"), stageSeconds, [
    ...common,
    "--labels",
    labels,
    "--seed",
    String(seed),
    "--batch",
    String(t.batch),
    "--lr",
    String(t.lr),
    "--margin",
    String(t.margin),
    "--patience",
    String(t.patience),
    "--max-epochs",
    String(smoke ? 3 : t.maxEpochs),
    "--hidden",
    String(t.hidden),
    "--dim",
    String(t.dim),
  ]);
  await stage(python, "pca", join(work, "pca.json"), stageSeconds, [
    ...common,
    "--dim",
    String(HYPER.pca.dim),
    "--seed",
    String(seed),
  ]);
  await stage(python, "forests", join(work, "metrics.json"), stageSeconds, [
    ...common,
    "--labels",
    labels,
    "--seed",
    String(seed),
    "--trees",
    String(HYPER.forest.nEstimators),
    "--depth",
    String(HYPER.forest.maxDepth),
  ]);

  // 5. Artifacts and manifest.
  await Deno.mkdir(out, { recursive: true });
  const artifact = async (file: string) => {
    const bytes = await Deno.readFile(join(work, file));
    await Deno.writeFile(join(out, file), bytes);
    return { file, sha256: await sha256Hex(bytes), bytes: bytes.length };
  };
  const translatorRecord = JSON.parse(await Deno.readTextFile(join(work, "translator.json")));
  const metrics = JSON.parse(await Deno.readTextFile(join(work, "metrics.json")));
  const forest = await artifact("forest.json");
  const head = async (modality: "audio" | "image", enc: typeof audioEnc) => ({
    ...(await artifact(`translator_${modality}.onnx`)),
    input: modality,
    output: `${modality}_joint`,
    dimIn: enc.card.outputs.embedding.dim,
    dim: HYPER.translator.dim,
    encoder: enc.card.name,
  });
  const artifacts = {
    translator_audio: await head("audio", audioEnc),
    translator_image: await head("image", imageEnc),
    pca: await artifact("pca.json"),
    forest,
  };
  const onnxSha = async (p: string) => await sha256Hex(await Deno.readFile(p));
  const counts: Record<string, number> = {};
  for (const i of items) {
    counts[`${i.split}/${i.modality}/${i.domain}`] = (counts[`${i.split}/${i.modality}/${i.domain}`] ?? 0) + 1;
  }
  const totalBytes = Object.values(artifacts).reduce((s, a) => s + a.bytes, 0);
  const manifest: ModelManifest = {
    format: "amodal-models/1",
    version: `mmt-${new Date().toISOString().slice(0, 10)}-${forest.sha256.slice(0, 8)}${smoke ? "-smoke" : ""}`,
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
    seeds: { augmentation: seed, translator: seed, pca: seed, forests: seed },
    hyper: {
      ...HYPER,
      translator: {
        ...HYPER.translator,
        maxEpochs: smoke ? 3 : HYPER.translator.maxEpochs,
        loss: "contrastive hinge on cosine, in-batch negatives of other labels, both directions",
      },
      augmentation: { audioViews, imageViews, version: AUGMENT_VERSION },
    },
    translator: {
      bestEpoch: translatorRecord.best_epoch,
      bestValLoss: translatorRecord.best_val_loss,
      epochsRun: translatorRecord.epochs_run,
      device: translatorRecord.device,
      rows: translatorRecord.rows,
    },
    timings: {
      embedAudioSeconds: round((tEmbedAudio - tEmbed) / 1000),
      embedImageSeconds: round((tEmbedDone - tEmbedAudio) / 1000),
      embedRowsComputed: { audio: audio.computed, image: image.computed },
      embedRowsPerSecond: {
        audio: audio.seconds ? round(audio.computed / audio.seconds) : null,
        image: image.seconds ? round(image.computed / image.seconds) : null,
      },
      stageSeconds: { translate: translatorRecord.train_seconds, ...stageSeconds, forestsFit: metrics.fit_seconds },
      totalSeconds: round((performance.now() - t0) / 1000),
      note: "stages found finished in the work folder are not re-run and report no seconds here",
    },
    embeddingRows: { audio: audio.rows, image: image.rows },
    failedItems: [...audio.failed, ...image.failed],
    metrics: {
      classifiers: metrics.classifiers,
      zeroShot: metrics.zero_shot,
      rows: metrics.rows,
      forestNodes: metrics.forest.nodes,
    },
  };
  await Deno.writeTextFile(join(out, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n");
  // Parity dumps (sklearn / PyTorch / numpy outputs) for the tests, keyed by the forest they belong to.
  const parity = smoke ? join(work, "parity") : join(config.cacheDir, "train", "parity", forest.sha256.slice(0, 8));
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
  printSummary(metrics);
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

async function copyDir(from: string, to: string) {
  await Deno.mkdir(to, { recursive: true });
  for await (const e of Deno.readDir(from)) if (e.isFile) await Deno.copyFile(join(from, e.name), join(to, e.name));
}

/** Runs one Python stage unless its output already exists. */
async function stage(python: string, name: string, output: string, seconds: Record<string, number>, args: string[]) {
  if (existsSync(output)) {
    console.log(`train: ${name}: done already (${output})`);
    return;
  }
  const t = performance.now();
  const proc = await new Deno.Command(python, {
    args: [join(HERE, `${name}.py`), ...args],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  if (!proc.success) throw new Error(`train: stage ${name} failed (exit ${proc.code}); see its output above`);
  seconds[name] = round((performance.now() - t) / 1000);
}

function printSummary(
  metrics: {
    classifiers: Record<string, Record<string, { macro_f1: number } | null>>;
    zero_shot: Record<string, { macro_f1: number; fraction_of_best: number; best: string }>;
  },
) {
  const cols = [...new Set(Object.values(metrics.classifiers).flatMap((m) => Object.keys(m)))];
  console.log(["macro-F1".padEnd(8), ...cols.map((c) => c.padStart(16))].join(" "));
  for (const [name, m] of Object.entries(metrics.classifiers)) {
    console.log([name.padEnd(8), ...cols.map((c) => (m[c] ? m[c]!.macro_f1.toFixed(3) : "-").padStart(16))].join(" "));
  }
  for (const [k, z] of Object.entries(metrics.zero_shot)) {
    console.log(`zero-shot ${k}: ${z.macro_f1.toFixed(3)} (${(100 * z.fraction_of_best).toFixed(0)} % of ${z.best})`);
  }
}

if (import.meta.main) await main();
