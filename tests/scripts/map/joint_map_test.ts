import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../../lib/config.ts";
import type { ManifestItem } from "../../../scripts/dataset/manifest.ts";
import {
  buildJointMap,
  type Embedded,
  type JointMap,
  MAP_FORMAT,
  project,
  REBUILD,
  sampleForMap,
} from "../../../scripts/map/joint_map.ts";
import { createRandom } from "../../../scripts/shared/random.ts";

const FACTS = {
  model: "m-test",
  translators: { audio: "a", image: "i" },
  rebuild: REBUILD,
  sample: { seed: 1, perLabel: 3, splits: [], items: { audio: 0, image: 0 } },
};

/** Items around three well-separated label directions in 8-d, both modalities, with a little noise. */
function clusters(): Embedded[] {
  const random = createRandom("map-test");
  const out: Embedded[] = [];
  ["cello", "drums", "flute"].forEach((label, k) => {
    for (const modality of ["audio", "image"] as const) {
      for (let n = 0; n < 5; n++) {
        const vector: number[] = Array.from({ length: 8 }, (_, i) => (i === k ? 3 : 0) + (random.next() - 0.5) * 0.2);
        out.push({ label, modality, vector });
      }
    }
  });
  return out;
}

Deno.test("buildJointMap() places each label's centroids of both modalities together and far from others", () => {
  const map = buildJointMap(clusters(), FACTS);
  assert.equal(map.format, MAP_FORMAT);
  assert.equal(map.centroids.length, 6);
  const at = (label: string, modality: string) =>
    map.centroids.find((c) => c.label === label && c.modality === modality)!;
  const gap = (a: { x: number; y: number }, b: { x: number; y: number }) => Math.hypot(a.x - b.x, a.y - b.y);
  for (const label of ["cello", "drums", "flute"]) {
    assert.equal(at(label, "audio").n, 5);
    assert.ok(gap(at(label, "audio"), at(label, "image")) < 0.1, `${label}: modalities apart`);
  }
  assert.ok(gap(at("cello", "audio"), at("drums", "audio")) > 0.5);
  assert.ok(gap(at("cello", "audio"), at("flute", "audio")) > 0.5);
  assert.deepEqual(map.fidelity, { nearestCentroid128d: 1, nearestCentroid2d: 1 });
  // Three directions span a plane: two components hold (nearly) all the centroids' variance.
  assert.ok(map.projection.explained[0]! + map.projection.explained[1]! > 0.99);
});

Deno.test("project() puts an item on its centroid when the centroid is that one item, as the page does", () => {
  // One item per (label, modality): each centroid is that item's unit vector, so projecting the raw item
  // (any length: project() normalises) must land on it.
  const seen = new Set<string>();
  const single = clusters().filter((e) => !seen.has(e.label + e.modality) && seen.add(e.label + e.modality));
  const map = buildJointMap(single.map((e) => ({ ...e, vector: Array.from(e.vector, (v) => v * 7) })), FACTS);
  for (const e of single) {
    const [x, y] = project(map.projection, e.vector);
    const c = map.centroids.find((c) => c.label === e.label && c.modality === e.modality)!;
    assert.ok(Math.abs(x - c.x) < 1e-5 && Math.abs(y - c.y) < 1e-5, `${e.label} ${e.modality}`);
  }
});

Deno.test("sampleForMap() takes held-out items first, up to the per-label count, the same on every run", () => {
  const item = (id: string, split: ManifestItem["split"]) =>
    ({ id, split, modality: "audio", label: "cello", root: "data", path: `${id}.wav` }) as ManifestItem;
  const items = [
    item("t1", "translation-train"),
    item("t2", "translation-train"),
    item("c1", "classify-test"),
    item("u1", "unused"),
    item("r1", "retrieval"),
  ];
  const chosen = sampleForMap(items, { perLabel: 3, seed: 1 });
  assert.deepEqual(chosen.slice(0, 2).map((i) => i.id), ["c1", "r1"]);
  assert.equal(chosen.length, 3);
  assert.ok(!chosen.some((i) => i.split === "unused"));
  assert.deepEqual(sampleForMap(items, { perLabel: 3, seed: 1 }), chosen);
});

Deno.test("models/joint_map.json belongs to the deployed model (else: deno task map)", async () => {
  const models = loadConfig().modelsDir;
  const manifest = JSON.parse(await Deno.readTextFile(join(models, "manifest.json")));
  const map = JSON.parse(await Deno.readTextFile(join(models, "joint_map.json"))) as JointMap;
  const hint = `models/joint_map.json is stale: rebuild it with \`${map.rebuild}\``;
  assert.equal(map.format, MAP_FORMAT);
  assert.equal(map.model, manifest.version, hint);
  assert.deepEqual(map.translators, {
    audio: manifest.artifacts.translator_audio.sha256,
    image: manifest.artifacts.translator_image.sha256,
  }, hint);
  assert.deepEqual([...new Set(map.centroids.map((c) => c.label))].sort(), [...manifest.labels].sort(), hint);
  assert.equal(map.projection.mean.length, manifest.artifacts.translator_audio.dim);
});
