import { deepStrictEqual as assertEquals, throws } from "node:assert/strict";
import { formatManifest, itemPath, type ManifestItem, parseManifest } from "../../../scripts/dataset/manifest.ts";

const item = (id: string, extra: Partial<ManifestItem> = {}): ManifestItem => ({
  id,
  root: "data",
  path: `audio/x/${id}.wav`,
  modality: "audio",
  label: "cello",
  split: "translation-train",
  domain: "rendered",
  source: "fluidr3",
  group: "g",
  unit: "u",
  splitBy: "group",
  origin: "o",
  license: "MIT",
  ...extra,
});

Deno.test("formatManifest() sorts by id and round-trips through parseManifest()", () => {
  const items = [item("b", { startSeconds: 0.5, durationSeconds: 1 }), item("a")];
  const text = formatManifest(items);
  assertEquals(text.split("\n").length, 3);
  assertEquals(parseManifest(text).map((i) => i.id), ["a", "b"]);
  assertEquals(formatManifest(parseManifest(text)), text);
});

Deno.test("parseManifest() rejects bad lines with the line number", () => {
  const good = JSON.stringify(item("a"));
  const cases: [string, RegExp][] = [
    ["{", /line 1/],
    [JSON.stringify({ ...item("a"), label: "kazoo" }), /label "kazoo"/],
    [JSON.stringify({ ...item("a"), split: "train" }), /split "train"/],
    [`${good}\n${JSON.stringify({ ...item("b"), id: 3 })}`, /line 2: "id" must be a string/],
  ];
  for (const [text, message] of cases) throws(() => parseManifest(text), message);
});

Deno.test("itemPath() resolves against the data or corpus folder", () => {
  const roots = { dataDir: "/d", corpusDir: "/c" };
  assertEquals(itemPath({ root: "data", path: "a/b.wav" }, roots), "/d/a/b.wav");
  assertEquals(itemPath({ root: "corpus", path: "images/x.jpg" }, roots), "/c/images/x.jpg");
  throws(() => itemPath({ root: "data", path: "/etc/passwd" }, roots), TypeError);
});
