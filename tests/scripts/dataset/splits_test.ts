import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import type { Label } from "../../../lib/labels.ts";
import { assignSplits, type SplitCandidate, type SplitDecision } from "../../../scripts/dataset/splits.ts";

/** Synthetic dataset: label -> groups -> units -> items. */
function candidates(): SplitCandidate[] {
  const out: SplitCandidate[] = [];
  const add = (label: Label, group: string, units: number, perUnit: number, extra: Partial<SplitCandidate> = {}) => {
    for (let u = 0; u < units; u++) {
      for (let k = 0; k < perUnit; k++) {
        out.push({
          id: `${label}/${group}/${u}#${k}`,
          modality: "audio",
          domain: "rendered",
          label,
          group,
          unit: `${group}/${u}`,
          heldout: false,
          ...extra,
        });
      }
    }
  };
  // Many groups: group mode.
  for (let g = 0; g < 8; g++) add("guitar", `guitar-g${g}`, 3 + g, 2);
  // One group only: must be split by file.
  add("mandolin", "mandolin-only", 14, 3);
  // A held-out source.
  add("guitar", "guitar-heldout", 5, 2, { heldout: true });
  // Images, two domains balanced apart.
  for (let g = 0; g < 3; g++) {
    add("banjo", `photos-${g}`, 30, 1, { modality: "image", domain: "photo" });
    add("violin", `photos-v${g}`, 40, 1, { modality: "image", domain: "photo" });
  }
  add("banjo", "icons", 6, 1, { modality: "image", domain: "drawing" });
  add("cello", "icons-c", 4, 1, { modality: "image", domain: "drawing" });
  return out;
}

function check(items: SplitCandidate[], decisions: Map<string, SplitDecision>) {
  assertEquals(decisions.size, items.length);
  const groupSplit = new Map<string, Set<string>>();
  const unitSplit = new Map<string, Set<string>>();
  for (const item of items) {
    const d = decisions.get(item.id)!;
    if (item.heldout) assertEquals(d.split, "heldout");
    else ok(d.split !== "heldout", `${item.id} held out`);
    if (d.split === "unused") continue;
    const key = d.splitBy === "group" ? groupSplit : unitSplit;
    const name = d.splitBy === "group" ? item.group : item.unit;
    if (!key.has(name)) key.set(name, new Set());
    key.get(name)!.add(d.split);
  }
  for (const [group, splits] of groupSplit) assertEquals(splits.size, 1, `group ${group} in ${[...splits]}`);
  for (const [unit, splits] of unitSplit) assertEquals(splits.size, 1, `unit ${unit} in ${[...splits]}`);
}

Deno.test("assignSplits() keeps each group (or, when split by file, each unit) in one split", () => {
  const items = candidates();
  const decisions = assignSplits(items, { seed: 1 });
  check(items, decisions);
  const mode = (label: string) =>
    new Set(items.filter((i) => i.label === label && !i.heldout).map((i) => decisions.get(i.id)!.splitBy));
  assertEquals([...mode("guitar")], ["group"]);
  assertEquals([...mode("mandolin")], ["file"]);
  // The file-split label still reaches every split.
  const mandolinSplits = new Set(items.filter((i) => i.label === "mandolin").map((i) => decisions.get(i.id)!.split));
  for (const s of ["translation-train", "translation-val", "retrieval", "classify-train", "classify-test"]) {
    ok(mandolinSplits.has(s as never), `mandolin has no ${s}`);
  }
});

Deno.test("assignSplits() balances classify splits per label within a modality (images per domain)", () => {
  const items = candidates();
  const decisions = assignSplits(items, { seed: 7 });
  const count = (filter: (i: SplitCandidate) => boolean, split: string) =>
    items.filter((i) => filter(i) && decisions.get(i.id)!.split === split).length;
  for (const split of ["classify-train", "classify-test"]) {
    const guitar = count((i) => i.label === "guitar", split);
    assertEquals(count((i) => i.label === "mandolin", split), guitar, split);
    ok(guitar > 0);
    const banjo = count((i) => i.label === "banjo" && i.domain === "photo", split);
    assertEquals(count((i) => i.label === "violin", split), banjo);
    ok(banjo > 0);
    const banjoDrawings = count((i) => i.label === "banjo" && i.domain === "drawing", split);
    assertEquals(count((i) => i.label === "cello", split), banjoDrawings);
  }
});

Deno.test("assignSplits() is deterministic for a seed and changes with it", () => {
  const items = candidates();
  const a = assignSplits(items, { seed: 3 });
  const b = assignSplits([...items].reverse(), { seed: 3 });
  assertEquals([...a].sort(), [...b].sort());
  const c = assignSplits(items, { seed: 4 });
  ok([...a].some(([id, d]) => c.get(id)!.split !== d.split), "another seed gave the same splits");
});

Deno.test("assignSplits() leaves labels below minPerLabel out of the classify splits", () => {
  const items = candidates();
  const decisions = assignSplits(items, { seed: 2, minPerLabel: 5 });
  const splitsOf = (label: string) =>
    new Set(items.filter((i) => i.label === label && i.domain === "drawing").map((i) => decisions.get(i.id)!.split));
  // cello has 4 drawings: none classified; banjo has 6: it is the only classified drawing label.
  ok(![...splitsOf("cello")].some((s) => s.startsWith("classify")));
  ok(splitsOf("cello").has("translation-train"));
  ok(splitsOf("banjo").has("classify-train") || splitsOf("banjo").has("unused"));
});
