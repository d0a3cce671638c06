/**
 * Presence evidence: runs instrument items (a stratified sample of `../shared/corpus` and the
 * dataset's instrument drawings) and no-instrument items (`../shared/negatives`, generated
 * negatives, non-instrument icons) through the service's own code path (lib/media decoders ->
 * lib/encoders with their class scores -> the served translator and forest) and writes, per item,
 * what the presence stage sees: pooled encoder scores, signal level, length, image size and
 * flatness, the forest's top score, with source, group and category.
 *
 * Output: `.cache/presence/evidence.jsonl` (resumable: ids already there are skipped). Then
 * `/usr/bin/python3 scripts/presence/train.py` fits and writes `models/presence.json`.
 *
 * Usage: `deno run -A scripts/presence/extract.ts [--audio N] [--images N]` (N: corpus items per
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
import { pixelStd, signalLevelDbfs } from "../../lib/classify/presence.ts";
import { DRAWING_ALLOWLIST, ICON_SETS } from "../dataset/drawing_allowlist.ts";
import { type IconifyJson, iconSvg, loadIconSet, renderPng } from "../data/drawings.ts";
import { createRandom } from "../shared/random.ts";
import { generatedAudio, generatedImages } from "./generated.ts";

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

/** Non-instrument icons: everyday objects, animals, food, vehicles (no bells, microphones, headphones). */
const OBJECT_ICONS = [
  "cat",
  "dog",
  "pizza",
  "house",
  "automobile",
  "car",
  "deciduous-tree",
  "tree",
  "red-apple",
  "apple",
  "soccer-ball",
  "sun",
  "rocket",
  "bicycle",
  "laptop",
  "mobile-phone",
  "books",
  "book",
  "hamburger",
  "umbrella",
  "camera",
  "airplane",
  "fish",
  "bird",
  "key",
  "light-bulb",
  "hammer",
  "scissors",
  "teddy-bear",
  "t-shirt",
  "chair",
  "alarm-clock",
  "clock",
  "rose",
  "flower",
  "cloud",
  "star",
  "shopping-cart",
  "bus",
  "train",
  "pencil",
  "envelope",
  "tent",
  "cake",
  "coffee",
  "globe",
];
const OBJECT_ICON_SETS = [
  "noto",
  "twemoji",
  "fluent-emoji-flat",
  "openmoji",
  "mdi",
  "fa6-solid",
  "lucide",
  "game-icons",
];
/** Icons per set: every set draws a different part of the list, so categories spread over sets. */
const ICONS_PER_SET = 14;

const fileBytes = (path: string) => () => Deno.readFile(path);

function readManifest(path: string): Record<string, string>[] {
  const [head, ...lines] = Deno.readTextFileSync(path).trim().split("\n");
  const columns = head!.split(",");
  return lines.map((line) => {
    // Quoted fields (licences with commas) are kept whole.
    const cells = line.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((c) => c.replace(/,$/, "").replace(/^"|"$/g, ""));
    return Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? ""]));
  });
}

/** Up to `n` corpus items of a modality, round-robin over (source, label) so every group is drawn. */
function corpusSample(shared: string, modality: string, n: number): Item[] {
  const rows = readManifest(join(shared, "corpus/manifest.csv")).filter((r) => r.modality === modality);
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

function negatives(shared: string): Item[] {
  return readManifest(join(shared, "negatives/manifest.csv")).map((r) => ({
    id: `negatives/${r.path}`,
    modality: r.modality as Item["modality"],
    label: "none",
    source: r.source!,
    group: r.group!,
    category: r.category!,
    bytes: fileBytes(join(shared, "negatives", r.path!)),
  }));
}

async function icons(): Promise<Item[]> {
  const items: Item[] = [];
  const sets = new Map<string, IconifyJson>();
  const set = async (prefix: string) => {
    if (!sets.has(prefix)) sets.set(prefix, await loadIconSet(prefix));
    return sets.get(prefix)!;
  };
  const add = async (prefix: string, name: string, label: string, category: string) => {
    const svg = iconSvg(await set(prefix), name);
    if (!svg) return;
    items.push({
      id: `icon/${prefix}/${name}`,
      modality: "image",
      label,
      source: `iconify:${prefix}`,
      // One group per icon set: a set's style is what a split must not share.
      group: `icon-${prefix}`,
      category,
      bytes: () => renderPng(svg),
    });
  };
  for (const [s, prefix] of OBJECT_ICON_SETS.entries()) {
    const names = OBJECT_ICONS.filter((_, i) => (i + s * 5) % OBJECT_ICONS.length < ICONS_PER_SET + 6);
    let added = 0;
    for (const name of names) {
      if (added >= ICONS_PER_SET) break;
      const before = items.length;
      await add(prefix, name, "none", "icon");
      added += items.length - before;
    }
  }
  // The dataset's instrument drawings are instruments too: without them, "a drawing" would mean "no instrument".
  for (const [label, ids] of Object.entries(DRAWING_ALLOWLIST)) {
    for (const id of ids) {
      const [prefix, name] = id.split(":") as [string, string];
      if (ICON_SETS.some((s) => s.prefix === prefix)) await add(prefix, name, label, label);
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
  try {
    for (const line of (await Deno.readTextFile(outPath)).split("\n")) if (line) done.add(JSON.parse(line).id);
  } catch { /* first run */ }

  const items: Item[] = [
    ...generatedAudio().map((g) => ({ ...g, label: "none", source: "generated" })),
    ...generatedImages().map((g) => ({ ...g, label: "none", source: "generated" })),
    ...negatives(shared),
    ...await icons(),
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
  const joint = await loadJointSpace(config.modelsDir, runtime);
  const out = await Deno.open(outPath, { append: true, create: true });
  const round = (v: Float32Array) => Array.from(v, (x) => Number(x.toPrecision(5)));
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
          levelDbfs: signalLevelDbfs(samples),
          scoresMean: round(outputs.mean.scores!),
          scoresMax: round(outputs.max.scores!),
        };
      } else {
        const { width, height, pixels } = media.image;
        record = { width, height, pixelStd: pixelStd(pixels), scores: round(outputs.mean.scores!) };
      }
      const proba = joint.classifier.predictProba(await joint.translate(item.modality, embedding));
      let top = 0;
      for (let i = 1; i < proba.length; i++) if (proba[i]! > proba[top]!) top = i;
      const { bytes: _b, ...meta } = item;
      const line = { ...meta, topScore: proba[top], topLabel: joint.labels[top], ...record };
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
