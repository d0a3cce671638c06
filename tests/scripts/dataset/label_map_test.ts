import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { type Label, LABELS } from "../../../lib/labels.ts";
import {
  FORBIDDEN_PRESETS,
  GM_DRUM_KITS,
  GM_PERCUSSION_KEYS,
  GM_PROGRAMS,
  HYDROGEN_KITS,
  hydrogenInstrumentLabel,
} from "../../../scripts/dataset/label_map.ts";
import { DRAWING_ALLOWLIST, ICON_SETS } from "../../../scripts/dataset/drawing_allowlist.ts";
import { readSoundfontPresets } from "../../../scripts/data/soundfont_presets.ts";
import { SOUNDFONTS } from "../../../scripts/data/render_gm.ts";
import { datasetRoots } from "../../../scripts/dataset/paths.ts";
import { readCorpusManifest } from "../../../scripts/data/corpus.ts";

Deno.test("GM_PROGRAMS maps every melodic label except mandolin and ukulele, bank 0 only", () => {
  const labels = new Set<Label>(GM_PROGRAMS.map((m) => m.label));
  const expected = LABELS.filter((l) => !["cymbals", "drums", "mandolin", "ukulele"].includes(l));
  assertEquals([...labels].sort(), [...expected].sort());
  const programs = GM_PROGRAMS.map((m) => m.program);
  assertEquals(new Set(programs).size, programs.length, "a program is mapped twice");
  for (const m of GM_PROGRAMS) {
    ok(m.program >= 0 && m.program <= 127 && m.low < m.high && m.low >= 21 && m.high <= 108, `bad entry ${m.name}`);
  }
});

Deno.test("label mapping reaches all 18 labels in both modalities", async () => {
  const rows = await readCorpusManifest(datasetRoots().corpusDir);
  const audio = new Set<string>([
    ...GM_PROGRAMS.map((m) => m.label),
    "drums",
    "cymbals",
    ...rows.filter((r) => r.modality === "audio").map((r) => r.label),
  ]);
  const image = new Set<string>([
    ...rows.filter((r) => r.modality === "image").map((r) => r.label),
    ...LABELS.filter((l) => DRAWING_ALLOWLIST[l].length > 0),
  ]);
  assertEquals([...audio].sort(), [...LABELS]);
  assertEquals([...image].sort(), [...LABELS]);
});

Deno.test("GM_PERCUSSION_KEYS keeps drums and cymbals apart", () => {
  const drums = GM_PERCUSSION_KEYS.drums.map((k) => k.key);
  const cymbals = GM_PERCUSSION_KEYS.cymbals.map((k) => k.key);
  assertEquals(drums.filter((k) => cymbals.includes(k)), []);
  for (const k of [...drums, ...cymbals]) ok(k >= 35 && k <= 81, `key ${k} is not a GM percussion key`);
});

Deno.test("readSoundfontPresets() shows no mapped program is a forbidden or label-less preset", async () => {
  for (const soundfont of SOUNDFONTS) {
    const presets = await readSoundfontPresets(soundfont.file);
    const find = (bank: number, program: number) => presets.find((p) => p.bank === bank && p.program === program);
    for (const m of GM_PROGRAMS) {
      const preset = find(0, m.program);
      ok(preset, `${soundfont.name} lacks bank 0 program ${m.program} (${m.name})`);
      ok(!/mandolin|ukulele/i.test(preset.name), `${soundfont.name} program ${m.program} is "${preset.name}"`);
      ok(!FORBIDDEN_PRESETS.some((f) => f.bank === 0 && f.program === m.program));
    }
    for (const kit of GM_DRUM_KITS) ok(find(128, kit.program), `${soundfont.name} lacks drum kit ${kit.name}`);
    // The forbidden presets exist in the GS-style fonts, which is why the table must avoid them.
    if (soundfont.name !== "timgm6mb") {
      for (const f of FORBIDDEN_PRESETS) assertEquals(find(f.bank, f.program)?.name, f.name);
    }
  }
});

Deno.test("hydrogenInstrumentLabel() tells drums from cymbals", () => {
  const cases: [string, Label | null][] = [
    ["Kick", "drums"],
    ["Pearl Tom Floor", "drums"],
    ["Snare Rimshot (Pearl Free Floating Maple 14x3.5)", "drums"],
    ["Stick", "drums"],
    ["c3 - bass drum 1", "drums"],
    ["Sabian Hat Closed", "cymbals"],
    ["Closed HH", "cymbals"],
    ['China (Paiste Alpha 18")', "cymbals"],
    ["Ride Bell", "cymbals"],
    ["Zildjian Splash Choke", "cymbals"],
    ["Hand Clap", null],
    ["Cowbell", null],
    ["Tambourine", null],
    ["23", null],
  ];
  for (const [name, label] of cases) assertEquals(hydrogenInstrumentLabel(name), label, name);
  assertEquals(new Set(HYDROGEN_KITS.map((k) => k.dir)).size, HYDROGEN_KITS.length);
});

Deno.test("DRAWING_ALLOWLIST names only known icon sets, each entry once", () => {
  const prefixes = new Set(ICON_SETS.map((s) => s.prefix));
  for (const label of LABELS) {
    const entries = DRAWING_ALLOWLIST[label];
    assertEquals(new Set(entries).size, entries.length, `${label} lists an icon twice`);
    for (const id of entries) ok(prefixes.has(id.split(":")[0]!), `${id}: unknown icon set`);
  }
});
