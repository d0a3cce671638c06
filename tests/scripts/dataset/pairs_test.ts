import { deepStrictEqual as assertEquals, notDeepStrictEqual, ok } from "node:assert/strict";
import type { Label } from "../../../lib/labels.ts";
import type { ManifestItem, Modality, Split } from "../../../scripts/dataset/manifest.ts";
import { sampleLabelPairs } from "../../../scripts/dataset/pairs.ts";

function items(): ManifestItem[] {
  const out: ManifestItem[] = [];
  const add = (label: Label, modality: Modality, n: number, split: Split = "translation-train") => {
    for (let i = 0; i < n; i++) {
      out.push({
        id: `${modality}/${label}/${split}/${i}`,
        root: "data",
        path: `${label}/${i}`,
        modality,
        label,
        split,
        domain: modality === "audio" ? "rendered" : "drawing",
        source: "s",
        group: "g",
        unit: `${i}`,
        splitBy: "group",
        origin: "o",
        license: "MIT",
      });
    }
  };
  add("cello", "audio", 10);
  add("cello", "image", 3);
  add("guitar", "audio", 4);
  add("guitar", "image", 7);
  add("voice", "audio", 5); // no voice images: no voice pairs
  add("guitar", "image", 5, "retrieval");
  return out;
}

Deno.test("sampleLabelPairs() pairs audio and image items of the same label from one split", () => {
  const pairs = sampleLabelPairs(items(), { seed: 1, epoch: 0 });
  assertEquals(pairs.length, 10 + 7);
  for (const p of pairs) {
    assertEquals(p.audio.label, p.label);
    assertEquals(p.image.label, p.label);
    assertEquals(p.audio.modality, "audio");
    assertEquals(p.image.modality, "image");
    assertEquals(p.audio.split, "translation-train");
    assertEquals(p.image.split, "translation-train");
  }
  // Every item of a paired label is used.
  assertEquals(new Set(pairs.filter((p) => p.label === "cello").map((p) => p.audio.id)).size, 10);
  assertEquals(new Set(pairs.filter((p) => p.label === "guitar").map((p) => p.image.id)).size, 7);
  assertEquals(pairs.filter((p) => p.label === "voice").length, 0);
});

Deno.test("sampleLabelPairs() repeats for a seed and epoch and resamples across epochs", () => {
  const key = (ps: ReturnType<typeof sampleLabelPairs>) => ps.map((p) => `${p.audio.id}|${p.image.id}`);
  const a = key(sampleLabelPairs(items(), { seed: 5, epoch: 2 }));
  assertEquals(key(sampleLabelPairs([...items()].reverse(), { seed: 5, epoch: 2 })), a);
  notDeepStrictEqual(key(sampleLabelPairs(items(), { seed: 5, epoch: 3 })), a);
});

Deno.test("sampleLabelPairs() honours split and perLabel", () => {
  const pairs = sampleLabelPairs(items(), { seed: 1, epoch: 0, split: "retrieval", perLabel: 3 });
  assertEquals(pairs.length, 0); // no retrieval audio
  const fixed = sampleLabelPairs(items(), { seed: 1, epoch: 0, perLabel: 2 });
  assertEquals(fixed.length, 4);
  ok(fixed.every((p) => p.label === "cello" || p.label === "guitar"));
});
