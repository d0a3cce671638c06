import assert from "node:assert/strict";
import { DRAWINGS_FOLD, losoFolds } from "../../../scripts/train/loso_folds.ts";
import type { Domain, ManifestItem, Split } from "../../../scripts/dataset/manifest.ts";
import type { Label } from "../../../lib/labels.ts";

let n = 0;
function item(source: string, domain: Domain, label: Label, split: Split = "translation-train"): ManifestItem {
  const modality = domain === "recording" || domain === "rendered" ? "audio" : "image";
  return {
    id: `${source}/${n++}`,
    root: "data",
    path: "x",
    modality,
    label,
    split,
    domain,
    source,
    group: source,
    unit: "x",
    splitBy: "group",
    origin: "test",
    license: "CC0-1.0",
  };
}

const ITEMS: ManifestItem[] = [
  item("gtown", "recording", "drums"),
  item("gtown", "recording", "cymbals", "classify-test"),
  item("gtown", "recording", "piano", "unused"),
  item("fluidr3mono", "rendered", "piano"),
  item("musescore-lite", "rendered", "organ", "retrieval"),
  item("timgm6mb", "rendered", "piano", "heldout"),
  item("jray", "photo", "banjo", "heldout"),
  item("iconify:noto", "drawing", "violin"),
  item("iconify:twemoji", "drawing", "voice", "classify-train"),
];

Deno.test("losoFolds() makes one fold per source, the drawings as one", () => {
  const { folds } = losoFolds(ITEMS);
  assert.deepEqual(
    folds.map((f) => [f.name, f.modality, f.domain]),
    [
      ["fluidr3mono", "audio", "rendered"],
      ["gtown", "audio", "recording"],
      ["musescore-lite", "audio", "rendered"],
      ["timgm6mb", "audio", "rendered"],
      [DRAWINGS_FOLD, "image", "drawing"],
      ["jray", "image", "photo"],
    ],
  );
  const drawings = folds.find((f) => f.name === DRAWINGS_FOLD)!;
  assert.deepEqual(drawings.test, ["iconify:noto", "iconify:twemoji"]);
  assert.deepEqual(drawings.labels, ["violin", "voice"]);
});

Deno.test("losoFolds() keeps a fold's sample family out of training", () => {
  const { folds } = losoFolds(ITEMS);
  const byName = Object.fromEntries(folds.map((f) => [f.name, f]));
  assert.deepEqual(byName["fluidr3mono"]!.test, ["fluidr3mono"]);
  assert.deepEqual(byName["fluidr3mono"]!.exclude, ["fluidr3mono", "musescore-lite"]);
  assert.deepEqual(byName["musescore-lite"]!.exclude, ["fluidr3mono", "musescore-lite"]);
  assert.deepEqual(byName["timgm6mb"]!.exclude, ["timgm6mb"]);
});

Deno.test("losoFolds() tests on every split but unused, and never trains on classify-test", () => {
  const result = losoFolds(ITEMS);
  const gtown = result.folds.find((f) => f.name === "gtown")!;
  // The classify-test item counts (it is tested on), the unused one does not.
  assert.equal(gtown.items, 2);
  assert.deepEqual(gtown.labels, ["cymbals", "drums"]);
  assert.deepEqual(result.neverTrain, ["classify-test"]);
  assert.deepEqual(result.notUsed, ["unused"]);
});

Deno.test("losoFolds() rejects a source with two domains", () => {
  assert.throws(
    () => losoFolds([item("gtown", "recording", "drums"), item("gtown", "rendered", "drums")]),
    (e: Error) => e instanceof RangeError && /gtown/.test(e.message),
  );
});
