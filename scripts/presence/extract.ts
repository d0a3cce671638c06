/**
 * Presence evidence: runs instrument items (a stratified sample of `../shared/corpus` and the
 * dataset's instrument drawings) and the no-instrument set (`scripts/data/negative_set.ts`: generated negatives,
 * `../shared/negatives`, non-instrument icons) through the service's own code path (lib/media decoders ->
 * lib/encoders with their class scores -> the served translator and forest) and writes, per item,
 * what the presence stage sees: pooled encoder scores, signal level, length, image size and
 * flatness, the forest's top score, with source, group and category.
 *
 * Output: `.cache/presence/evidence.jsonl` (resumable: ids already there are skipped, unless their record
 * format or the joint model that scored them is not the deployed one, so a new head needs no clean-up). Then
 * `/usr/bin/python3 scripts/presence/train.py` fits and writes `models/presence.json`.
 *
 * Usage: `deno run --lock=deno.lock -A scripts/presence/extract.ts [--audio N] [--images N]` (N: corpus items per
 * modality, default 500 each).
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../../lib/config.ts";
import { createSession } from "../../lib/backend/onnx.ts";
import { ensureEncoders } from "../../lib/weights/ensure_encoders.ts";
import { loadJointSpace } from "../../lib/joint/joint_space.ts";
import { encodeFile } from "../../lib/pipeline.ts";
import { audioSignal, pixelStd } from "../../lib/classify/presence_signal.ts";
import { DRAWING_ALLOWLIST, ICON_SETS } from "../dataset/drawing_allowlist.ts";
import { type IconifyJson, iconSvg, loadIconSet, renderPng } from "../data/drawings.ts";
import { readCsv } from "../shared/csv.ts";
import { createRandom } from "../shared/random.ts";
import { PRESENCE_ICON_SETS } from "../dataset/presence_icon_sets.ts";
import { negativeSet } from "../data/negative_set.ts";

/** One item to extract. */
interface Item {
  id: string;
  modality: "audio" | "image";
  /** Instrument label, or `none`. */
  label: string;
  source: string;
  group: string;
  category: string;
  bytes: () => Promise<Uint8Array>;
}

/**
 * Version of an evidence record. 2: adds the encoder embedding pooled by mean (`embedding`, and
 * `embeddingMax` for audio) and the translated 128-d joint vector (`joint`); 3: audio `mainsRatio` and
 * `logKurtosis` (lib/classify/presence.ts); 4: `mainsRatio` as a fraction of the energy; 5: image
 * `whiteFraction`; 6: `jointVersion`, the joint model whose head gave `topScore`; 7: audio `clickRatio`.
 */
const RECORD_FORMAT = 7;

/**
 * Natural log of the samples' kurtosis (mean x^4 over squared mean x^2): 1.1 for Gaussian noise,
 * 0.4 for a steady tone, large for sparse clicks. Evidence for an ablation in train.py (round 2
 * measured it and left it out of the served model); not a service feature.
 */
function logKurtosis(samples: Float32Array): number {
  let m2 = 0, m4 = 0;
  for (const x of samples) {
    m2 += x * x;
    m4 += x ** 4;
  }
  return m2 > 0 ? Math.log(m4 * samples.length / (m2 * m2)) : 0;
}

/**
 * Fraction of pixels paper white (>= 245) in every channel: drawings and icons are rendered on
 * white. Evidence for an ablation in train.py (measured, not served).
 */
function whiteFraction(pixels: Uint8Array): number {
  const n = Math.floor(pixels.length / 3);
  let white = 0;
  for (let i = 0; i < 3 * n; i += 3) {
    if (pixels[i]! >= 245 && pixels[i + 1]! >= 245 && pixels[i + 2]! >= 245) white++;
  }
  return n === 0 ? 0 : white / n;
}

const fileBytes = (path: string) => () => Deno.readFile(path);

/** Up to `n` corpus items of a modality, round-robin over (source, label) so every group is drawn. */
function corpusSample(shared: string, modality: string, n: number): Item[] {
  const rows = readCsv(join(shared, "corpus/manifest.csv")).filter((r) => r.modality === modality);
  const random = createRandom(`presence:corpus:${modality}`);
  const buckets = new Map<string, Record<string, string>[]>();
  for (const row of random.shuffle(rows)) {
    const key = `${row.source}/${row.label}`;
    buckets.set(key, [...(buckets.get(key) ?? []), row]);
  }
  const queues = [...buckets.keys()].sort().map((k) => buckets.get(k)!);
  const picked: Record<string, string>[] = [];
  for (let round = 0; picked.length < n && queues.some((q) => round < q.length); round++) {
    for (const q of queues) if (round < q.length && picked.length < n) picked.push(q[round]!);
  }
  return picked.map((r) => ({
    id: `corpus/${r.path}`,
    modality: modality as Item["modality"],
    label: r.label!,
    source: r.source!,
    group: r.group!,
    category: r.label!,
    bytes: fileBytes(join(shared, "corpus", r.path!)),
  }));
}

/** The instrument drawings: the dataset's (without them "a drawing" would mean "no instrument") and the presence
 * stage's own sets' (which the joint model never saw). */
async function drawings(): Promise<Item[]> {
  const items: Item[] = [];
  const sets = new Map<string, IconifyJson>();
  const add = async (prefix: string, name: string, label: string) => {
    if (!sets.has(prefix)) sets.set(prefix, await loadIconSet(prefix));
    const svg = iconSvg(sets.get(prefix)!, name);
    if (!svg) return;
    items.push({
      id: `icon/${prefix}/${name}`,
      modality: "image",
      label,
      source: `iconify:${prefix}`,
      // One group per icon set, as the non-instrument icons (scripts/data/negative_set.ts).
      group: `icon-${prefix}`,
      category: label,
      bytes: () => renderPng(svg),
    });
  };
  for (const [label, ids] of Object.entries(DRAWING_ALLOWLIST)) {
    for (const id of ids) {
      const [prefix, name] = id.split(":") as [string, string];
      if (ICON_SETS.some((s) => s.prefix === prefix)) await add(prefix, name, label);
    }
  }
  for (const { prefix, drawings } of PRESENCE_ICON_SETS) {
    for (const [label, names] of Object.entries(drawings)) {
      for (const name of names) await add(prefix, name, label);
    }
  }
  return items;
}

async function main() {
  const args = parseArgs({ options: { audio: { type: "string" }, images: { type: "string" } } });
  const config = loadConfig();
  const shared = config.sharedDir;
  const outDir = join(config.cacheDir, "presence");
  const outPath = join(outDir, "evidence.jsonl");
  await Deno.mkdir(outDir, { recursive: true });
  const done = new Set<string>();
  // Loaded before the resume check: records scored by another joint model carry another head's top score.
  const joint = await loadJointSpace(config.modelsDir, { threads: 1 });
  try {
    // Records of an older format lack what train.py now reads, and records of another joint model have another head's
    // `topScore`: drop them and extract those items again.
    const kept = (await Deno.readTextFile(outPath)).split("\n").filter((line) => {
      if (!line) return false;
      const record = JSON.parse(line);
      return record.format === RECORD_FORMAT && record.jointVersion === joint.version;
    });
    for (const line of kept) done.add(JSON.parse(line).id);
    await Deno.writeTextFile(outPath, kept.map((line) => line + "\n").join(""));
  } catch { /* first run */ }

  const items: Item[] = [
    // Provenance stays with the dataset's copy of the set (data/negatives.jsonl); the evidence keeps the id.
    ...(await negativeSet(join(shared, "negatives"))).map(({ origin: _o, license: _l, sharedPath: _p, ...item }) => ({
      ...item,
      label: "none",
    })),
    ...await drawings(),
    ...corpusSample(shared, "audio", Number(args.values.audio ?? 500)),
    ...corpusSample(shared, "image", Number(args.values.images ?? 500)),
  ];
  const todo = items.filter((i) => !done.has(i.id));
  console.error(`presence: ${items.length} items, ${todo.length} to extract -> ${outPath}`);

  const files = await ensureEncoders({ names: [config.audioEncoder, config.imageEncoder] });
  const audioEnc = files[config.audioEncoder]!;
  const imageEnc = files[config.imageEncoder]!;
  const runtime = { threads: 1 };
  const encoders = {
    audio: { card: audioEnc.card, session: await createSession(audioEnc.onnxPath, runtime) },
    image: { card: imageEnc.card, session: await createSession(imageEnc.onnxPath, runtime) },
  };
  const out = await Deno.open(outPath, { append: true, create: true });
  const round = (v: Float32Array, digits = 5) => Array.from(v, (x) => Number(x.toPrecision(digits)));
  const started = performance.now();
  let n = 0;
  for (const item of todo) {
    try {
      const bytes = await item.bytes();
      // The service's own chain (lib/pipeline.ts), asking for the class scores too.
      const { media, outputs } = await encodeFile(bytes, encoders, {
        limits: { maxAudioSeconds: config.maxAudioSeconds, maxPixels: config.maxImagePixels },
        outputs: ["embedding", "scores"],
      });
      if (media.modality !== item.modality) throw new Error(`sniffed as ${media.format}`);
      const embedding = outputs.mean.embedding!;
      let record: Record<string, unknown>;
      if (media.modality === "audio") {
        const { samples, sampleRate } = media.audio;
        record = {
          seconds: samples.length / sampleRate,
          ...audioSignal(samples),
          logKurtosis: logKurtosis(samples),
          scoresMean: round(outputs.mean.scores!),
          scoresMax: round(outputs.max.scores!),
          embeddingMax: round(outputs.max.embedding!, 4),
        };
      } else {
        const { width, height, pixels } = media.image;
        record = {
          width,
          height,
          pixelStd: pixelStd(pixels),
          whiteFraction: whiteFraction(pixels),
          scores: round(outputs.mean.scores!),
        };
      }
      const z = await joint.translate(item.modality, embedding);
      const proba = joint.classifier.predictProba(z);
      let top = 0;
      for (let i = 1; i < proba.length; i++) if (proba[i]! > proba[top]!) top = i;
      const { bytes: _b, ...meta } = item;
      const line = {
        format: RECORD_FORMAT,
        jointVersion: joint.version,
        ...meta,
        topScore: proba[top],
        topLabel: joint.labels[top],
        ...record,
        embedding: round(embedding, 4),
        joint: round(z, 4),
      };
      await out.write(new TextEncoder().encode(JSON.stringify(line) + "\n"));
    } catch (error) {
      console.error(`presence: skipped ${item.id}: ${(error as Error).message}`);
    }
    if (++n % 50 === 0) {
      const rate = n / ((performance.now() - started) / 1000);
      console.error(`presence: ${n}/${todo.length} (${rate.toFixed(1)}/s)`);
    }
  }
  out.close();
  console.error(`presence: done in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

if (import.meta.main) await main();
