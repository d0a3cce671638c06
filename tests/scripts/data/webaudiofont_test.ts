import { deepStrictEqual as assertEquals, ok, rejects, throws } from "node:assert/strict";
import { join } from "node:path";
import {
  parsePreset,
  pickZone,
  planWebAudioFont,
  readWebAudioFontManifest,
  renderWebAudioFont,
  webAudioFontDir,
} from "../../../scripts/data/webaudiofont.ts";
import type { BuildContext } from "../../../scripts/data/common.ts";

const dir = webAudioFontDir();

Deno.test("parsePreset() reads every shared preset as data, each zone with a sample", async () => {
  const { entries } = await readWebAudioFontManifest(dir);
  assertEquals(entries.length, 382);
  let zones = 0;
  for (const e of entries) {
    const parsed = parsePreset(await Deno.readTextFile(join(dir, e.file)));
    zones += parsed.length;
  }
  assertEquals(zones, 2447); // README: 2,447 zones in all
});

Deno.test("parsePreset() rejects text that is not a preset", () => {
  const cases: [string, RegExp][] = [
    ["console.log('x');", /no object literal/],
    ["var _tone_x={zones:[]};", /no zones/],
    [
      "var _tone_x={zones:[{keyRangeLow:0,keyRangeHigh:1,originalPitch:6000,sampleRate:44100,file:'AA",
      /no object literal/,
    ],
    ["var _tone_x={zones:[{keyRangeLow:0,,}]};", /JSON5/],
    ["var _tone_x={zones:[{keyRangeLow:0,keyRangeHigh:1,originalPitch:6000,sampleRate:44100}]};", /no sample/],
    ["var _tone_x={zones:[{keyRangeLow:'a',keyRangeHigh:1,originalPitch:6000,sampleRate:1,file:''}]};", /keyRangeLow/],
  ];
  for (const [text, message] of cases) throws(() => parsePreset(text), message, text);
  // Comments inside and after values, with "//" inside base64 strings, are not taken for comments.
  const zones = parsePreset(
    "console.log('load');\nvar _t={\n zones:[{keyRangeLow:0 //_tone.a\n ,keyRangeHigh:127,originalPitch:6000,sampleRate:8000,file:'a//b'}]};",
  );
  assertEquals(zones[0]!.file, "a//b");
});

Deno.test("pickZone() takes the last zone holding the key (plus one), never an inverted one", () => {
  const zones = [
    { keyRangeLow: 0, keyRangeHigh: 59 },
    { keyRangeLow: 60, keyRangeHigh: 127 },
    { keyRangeLow: 70, keyRangeHigh: 50 },
  ];
  const cases: [number, number][] = [[10, 0], [59, 0], [60, 1], [127, 1], [71, 1]];
  for (const [note, index] of cases) assertEquals(pickZone(zones, note), index, `note ${note}`);
  assertEquals(pickZone([{ keyRangeLow: 40, keyRangeHigh: 50 }], 90), 0);
});

Deno.test("planWebAudioFont() gives each bank its own source and labels drum keys by the GM table", async () => {
  const { entries } = await readWebAudioFontManifest(dir);
  const jobs = planWebAudioFont(entries, { perLabel: 12, minPerPreset: 2 });
  const banks = new Set(jobs.map((j) => j.bank));
  assertEquals(banks.size, 12);
  for (const j of jobs.filter((j) => j.label === "cymbals")) {
    ok(j.files.every((f) => [42, 44, 46, 49, 51, 52, 53, 55, 57, 59].includes(f.key!)));
  }
  ok(!jobs.some((j) => j.label === "mandolin" || j.label === "ukulele"));
});

Deno.test("renderWebAudioFont() skips a corrupt preset with a warning and fails on a missing one", async () => {
  const tmp = await Deno.makeTempDir({ prefix: "amodal-waf-" });
  try {
    const good = "0000_Aspirin_sf2_file.js";
    await Deno.copyFile(join(dir, good), join(tmp, good));
    await Deno.writeTextFile(join(tmp, "0010_Aspirin_sf2_file.js"), "var _tone_0010={zones:[{keyRangeLow:0,");
    const origin = "github:x@y:sound/";
    await Deno.writeTextFile(
      join(tmp, "manifest.csv"),
      "file,bank,program,variation,drum_key,label,preset_name,sha256,origin\n" +
        `${good},Aspirin,0,0,,piano,Acoustic Grand Piano,x,${origin}${good}\n` +
        `0010_Aspirin_sf2_file.js,Aspirin,1,0,,piano,Bright Acoustic Piano,x,${origin}0010\n`,
    );
    await Deno.writeTextFile(join(tmp, "zones.csv"), "file,zone,name_check\n");
    const { entries, foreign } = await readWebAudioFontManifest(tmp);
    const ctx: BuildContext = { dataDir: join(tmp, "data"), corpusDir: tmp, seed: 1, small: true, progress: () => {} };
    const jobs = planWebAudioFont(entries, { perLabel: 2, minPerPreset: 2 });
    const errors: string[] = [];
    const original = console.error;
    console.error = (message: string) => errors.push(message);
    let result;
    try {
      result = await renderWebAudioFont(ctx, jobs, { dir: tmp, foreign });
    } finally {
      console.error = original;
    }
    assertEquals(result.skipped.map((s) => s.file), ["0010_Aspirin_sf2_file.js"]);
    ok(errors.some((e) => e.includes("0010_Aspirin_sf2_file.js does not parse")), errors.join("\n"));
    assertEquals(result.candidates.length, 2);
    assertEquals(result.candidates[0]!.source, "webaudiofont-Aspirin");

    await Deno.remove(join(tmp, good));
    await Deno.remove(join(tmp, "data"), { recursive: true });
    await rejects(renderWebAudioFont(ctx, jobs, { dir: tmp, foreign }), (e: Error) => {
      ok(e instanceof Deno.errors.NotFound && e.message.includes(join(tmp, good)), e.message);
      return true;
    });
  } finally {
    await Deno.remove(tmp, { recursive: true });
  }
});
