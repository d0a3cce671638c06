/**
 * WebAudioFont stage: renders the General MIDI presets of
 * `<shared>/soundbanks/webaudiofont/` (see its README) with a small sampler,
 * one `source` per bank (`webaudiofont-<bank>`) so banks can be held out.
 *
 * A preset file is a JavaScript object literal; it is read as data (JSON5,
 * which knows quotes, comments and unquoted keys), never evaluated. Each zone
 * holds an MP3, decoded with the service's ffmpeg.wasm at 16 kHz. Notes are
 * played as the WebAudioFont player does (README "Picking a zone"): the last
 * zone whose key range holds the note, pitch shifted by
 * `2 ** ((100 * note - baseDetune) / 1200)` with linear interpolation, looped
 * between the loop points, under the player's envelope, with a 50 ms release.
 *
 * @module
 */
import { join } from "node:path";
// Dataset-only dependency: a pinned inline specifier keeps it out of the service's import map.
// deno-lint-ignore no-import-prefix
import JSON5 from "npm:json5@2.2.3";
import { loadConfig } from "../../lib/config.ts";
import type { Label } from "../../lib/labels.ts";
import { runFfmpeg } from "../../lib/media/ffmpeg.ts";
import { cutClip } from "../dataset/onsets.ts";
import { GM_PERCUSSION_KEYS, GM_PROGRAMS, type ProgramMapping } from "../dataset/label_map.ts";
import { createRandom, type Random } from "../shared/random.ts";
import { type BuildContext, cachedUnit, type Candidate, CLIP_SECONDS, SAMPLE_RATE, writeClip } from "./common.ts";
import { melodicEvents, percussionEvents, type Scheduled, SLOT_SECONDS } from "./render_gm.ts";
import type { MidiEvent } from "./synth.ts";

/** Licence of the presets (webaudiofontdata/LICENSE; GeneralUserGS adds its own permissive terms). */
const LICENSE = "MIT (webaudiofontdata); samples: see shared/soundbanks/webaudiofont/README.md";

/** Default folder of the presets: `<AMODAL_SHARED_DIR>/soundbanks/webaudiofont`. */
export function webAudioFontDir(): string {
  return join(loadConfig().sharedDir, "soundbanks", "webaudiofont");
}

/** One zone of a preset, as stored. */
export interface Zone {
  keyRangeLow: number;
  keyRangeHigh: number;
  originalPitch: number;
  coarseTune?: number;
  fineTune?: number;
  sampleRate: number;
  loopStart?: number;
  loopEnd?: number;
  ahdsr?: boolean | unknown[];
  /** Base64 of a compressed file (MP3). */
  file?: string;
  /** Base64 of 16-bit little-endian PCM (not in the copied banks, handled anyway). */
  sample?: string;
}

/** One row of `manifest.csv`. */
export interface PresetEntry {
  file: string;
  bank: string;
  program: number | null;
  variation: number;
  drumKey: number | null;
  presetName: string;
  origin: string;
}

/**
 * Parses a preset file's text: the object literal after the first `=`.
 *
 * @param text The `.js` file.
 * @returns The zones.
 * @throws {SyntaxError} when there is no object literal or it holds no zones.
 *
 * @example
 * ```ts
 * parsePreset("var _tone_x={zones:[{keyRangeLow:0,keyRangeHigh:127,originalPitch:6000,sampleRate:44100,file:'SUQz'}]};");
 * ```
 */
export function parsePreset(text: string): Zone[] {
  const open = text.indexOf("{", text.indexOf("="));
  const close = text.lastIndexOf("}");
  if (text.indexOf("=") < 0 || open < 0 || close < open) throw new SyntaxError("no object literal after '='");
  const value = JSON5.parse(text.slice(open, close + 1)) as { zones?: unknown };
  if (!Array.isArray(value.zones) || value.zones.length === 0) throw new SyntaxError("no zones");
  for (const [i, z] of (value.zones as Record<string, unknown>[]).entries()) {
    for (const key of ["keyRangeLow", "keyRangeHigh", "originalPitch", "sampleRate"]) {
      if (typeof z[key] !== "number") throw new SyntaxError(`zone ${i}: ${key} is not a number`);
    }
    if (typeof z.file !== "string" && typeof z.sample !== "string") throw new SyntaxError(`zone ${i}: no sample`);
  }
  return value.zones as Zone[];
}

/** Reads a CSV without quoting (the bank's two files have none; a quote would be a format change, so it throws). */
function parseCsv(text: string, path: string): Record<string, string>[] {
  const [head, ...lines] = text.trim().split(/\r?\n/);
  const names = head!.split(",");
  return lines.map((line, i) => {
    const cells = line.split(",");
    if (line.includes('"') || cells.length !== names.length) {
      throw new SyntaxError(`Cannot read ${path} line ${i + 2}: expected ${names.length} unquoted fields`);
    }
    return Object.fromEntries(names.map((n, k) => [n, cells[k]!]));
  });
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new Deno.errors.NotFound(
        `WebAudioFont ${what} not found: expected ${path} (set AMODAL_SHARED_DIR to the folder holding soundbanks/)`,
      );
    }
    throw error;
  }
}

/**
 * Reads `manifest.csv` and the zones to skip from `zones.csv` (zones whose
 * sample name names another instrument, `name_check` = foreign).
 *
 * @param dir Preset folder.
 * @returns Entries sorted by file, and `foreign` as a set of `file#zone`.
 */
export async function readWebAudioFontManifest(
  dir = webAudioFontDir(),
): Promise<{ entries: PresetEntry[]; foreign: Set<string> }> {
  const rows = parseCsv(await readText(join(dir, "manifest.csv"), "manifest"), join(dir, "manifest.csv"));
  const entries = rows.map((r): PresetEntry => ({
    file: r.file!,
    bank: r.bank!,
    program: r.program ? Number(r.program) : null,
    variation: Number(r.variation),
    drumKey: r.drum_key ? Number(r.drum_key) : null,
    presetName: r.preset_name ?? "",
    origin: r.origin ?? "",
  })).sort((a, b) => (a.file < b.file ? -1 : 1));
  const foreign = new Set<string>();
  for (const z of parseCsv(await readText(join(dir, "zones.csv"), "zone list"), join(dir, "zones.csv"))) {
    if (z.name_check === "foreign") foreign.add(`${z.file}#${z.zone}`);
  }
  return { entries, foreign };
}

/** One render unit: a melodic preset, or the keys of one drum kit that belong to one label. */
interface Job {
  bank: string;
  label: Label;
  /** Unit name part: `p042v0` or `kit03`. */
  preset: string;
  /** Files whose zones the unit plays; drum units map each key to its file. */
  files: { file: string; key: number | null }[];
  mapping: ProgramMapping | null;
  events: number;
  group: string;
  origin: string;
}

/** The four General MIDI banks share many samples program by program (README "Caveats"): one group family. */
const GM_BANKS = new Set(["Aspirin", "Chaos", "GeneralUserGS", "JCLive"]);

/**
 * Plans the units: per bank and label `perLabel` events, at least
 * `minPerPreset` per preset. Melodic presets whose program is not in the
 * reviewed GM table are left out; drum keys are labelled by
 * `GM_PERCUSSION_KEYS`, not by the bank's own table.
 */
export function planWebAudioFont(
  entries: readonly PresetEntry[],
  options: { perLabel: number; minPerPreset: number; labels?: readonly Label[]; maxPresets?: number },
): Job[] {
  const wanted = (label: Label) => !options.labels || options.labels.includes(label);
  const byKey = new Map<string, Job>();
  const keyLabel = (key: number): "drums" | "cymbals" | null =>
    GM_PERCUSSION_KEYS.drums.some((k) => k.key === key)
      ? "drums"
      : GM_PERCUSSION_KEYS.cymbals.some((k) => k.key === key)
      ? "cymbals"
      : null;
  for (const e of entries) {
    if (e.drumKey !== null) {
      const label = keyLabel(e.drumKey);
      if (!label || !wanted(label)) continue;
      const preset = `kit${String(e.variation).padStart(2, "0")}`;
      const id = `${e.bank}:${label}:${preset}`;
      const job = byKey.get(id) ?? {
        bank: e.bank,
        label,
        preset,
        files: [],
        mapping: null,
        events: 0,
        group: `webaudiofont-${e.bank}:${preset}:${label}`,
        origin: `${e.origin.replace(/:sound\/.*$/, "")}:sound/128KK_${e.variation}_${e.bank}* "${
          e.presetName.replace(/^.*\[/, "[")
        }"`,
      };
      job.files.push({ file: e.file, key: e.drumKey });
      byKey.set(id, job);
      continue;
    }
    const mapping = GM_PROGRAMS.find((m) => m.program === e.program);
    if (!mapping || !wanted(mapping.label)) continue;
    const preset = `p${String(mapping.program).padStart(3, "0")}v${e.variation}`;
    byKey.set(`${e.bank}:${mapping.label}:${preset}`, {
      bank: e.bank,
      label: mapping.label,
      preset,
      files: [{ file: e.file, key: null }],
      mapping,
      events: 0,
      group: GM_BANKS.has(e.bank)
        ? `webaudiofont-gm:p${String(mapping.program).padStart(3, "0")}`
        : `webaudiofont-${e.bank}:${preset}`,
      origin: `${e.origin} "${e.presetName}"`,
    });
  }
  const jobs = [...byKey.values()];
  const perBankLabel = new Map<string, Job[]>();
  for (const j of jobs) {
    perBankLabel.set(`${j.bank}:${j.label}`, [...(perBankLabel.get(`${j.bank}:${j.label}`) ?? []), j]);
  }
  const out: Job[] = [];
  for (const key of [...perBankLabel.keys()].sort()) {
    const list = perBankLabel.get(key)!.slice(0, options.maxPresets ?? Infinity);
    const each = Math.max(options.minPerPreset, Math.ceil(options.perLabel / list.length));
    for (const j of list) out.push({ ...j, events: each });
  }
  return out;
}

/** A decoded zone ready to play. */
interface Voice {
  zone: Zone;
  samples: Float32Array;
}

async function decodeZone(zone: Zone): Promise<Float32Array> {
  if (zone.sample !== undefined) {
    const bytes = Uint8Array.from(atob(zone.sample), (c) => c.charCodeAt(0));
    const view = new DataView(bytes.buffer);
    const pcm = new Float32Array(Math.floor(bytes.length / 2));
    for (let i = 0; i < pcm.length; i++) pcm[i] = view.getInt16(2 * i, true) / 32768;
    return resampleLinear(pcm, zone.sampleRate / SAMPLE_RATE);
  }
  const mp3 = Uint8Array.from(atob(zone.file!), (c) => c.charCodeAt(0));
  // `-f mp3`: without it ffmpeg mis-probes a few tiny single-cycle MP3s (README "ffmpeg pitfalls").
  const raw = await runFfmpeg(mp3, [
    "-hide_banner",
    "-f",
    "mp3",
    "-i",
    "in",
    "-ac",
    1,
    "-ar",
    SAMPLE_RATE,
    "-f",
    "f32le",
    "out",
  ]);
  const samples = new Float32Array(raw.slice(0, raw.byteLength - (raw.byteLength % 4)).buffer);
  if (samples.length === 0) throw new RangeError("zone decodes to no samples");
  return samples;
}

function resampleLinear(input: Float32Array, step: number): Float32Array {
  const out = new Float32Array(Math.floor(input.length / step));
  for (let i = 0; i < out.length; i++) {
    const x = i * step;
    const k = Math.floor(x);
    out[i] = input[k]! + (x - k) * ((input[k + 1] ?? 0) - input[k]!);
  }
  return out;
}

/**
 * Index of the zone the player picks for `note`: the last whose key range
 * (plus one key) holds it, never one with an inverted range; 0 when none does.
 *
 * @example
 * ```ts
 * pickZone([{ keyRangeLow: 0, keyRangeHigh: 59 }, { keyRangeLow: 60, keyRangeHigh: 127 }], 60); // 1
 * ```
 */
export function pickZone(zones: readonly { keyRangeLow: number; keyRangeHigh: number }[], note: number): number {
  for (let i = zones.length - 1; i >= 0; i--) {
    const z = zones[i]!;
    if (z.keyRangeLow <= z.keyRangeHigh && z.keyRangeLow <= note && note <= z.keyRangeHigh + 1) return i;
  }
  return 0;
}

const RELEASE = 0.05;

/** Adds one note into `out` (16 kHz) at `start` seconds. */
function playNote(out: Float32Array, voice: Voice, note: number, velocity: number, start: number, length: number) {
  const { zone, samples } = voice;
  const baseDetune = zone.originalPitch - 100 * (zone.coarseTune ?? 0) - (zone.fineTune ?? 0);
  const rate = 2 ** ((100 * note - baseDetune) / 1200);
  const loopStart = zone.loopStart ?? 0;
  const loopEnd = zone.loopEnd ?? 0;
  const loops = loopStart >= 1 && loopStart < loopEnd;
  const a = (loopStart / zone.sampleRate) * SAMPLE_RATE;
  const b = Math.min(samples.length - 1, (loopEnd / zone.sampleRate) * SAMPLE_RATE);
  const gain = 0.5 * (velocity / 127);
  const first = Math.round(start * SAMPLE_RATE);
  const frames = Math.round((length + RELEASE) * SAMPLE_RATE);
  let position = 0;
  for (let f = 0; f < frames && first + f < out.length; f++) {
    if (loops && b > a + 1) {
      while (position >= b) position -= b - a;
    } else if (position >= samples.length - 1) break;
    const k = Math.floor(position);
    const v = samples[k]! + (position - k) * (samples[k + 1]! - samples[k]!);
    const t = f / SAMPLE_RATE;
    let level = 1;
    if (zone.ahdsr === true) {
      level = t < 0.5 ? 1 : t < 2 ? 1 - 0.5 * (t - 0.5) / 1.5 : Math.max(0, 0.5 - 0.5 * (t - 2) / 3);
    }
    if (t > length) level *= Math.max(0, 1 - (t - length) / RELEASE);
    out[first + f]! += v * gain * level;
    position += rate;
  }
}

/** Pairs note-ons with their note-offs. */
function notesOf(midi: readonly MidiEvent[]): { note: number; velocity: number; start: number; length: number }[] {
  const open = new Map<number, { velocity: number; start: number }[]>();
  const notes: { note: number; velocity: number; start: number; length: number }[] = [];
  for (const e of [...midi].sort((x, y) => x.time - y.time)) {
    if (e.type === "noteOn") open.set(e.note, [...(open.get(e.note) ?? []), { velocity: e.velocity, start: e.time }]);
    else if (e.type === "noteOff") {
      const on = open.get(e.note)?.shift();
      if (on) notes.push({ note: e.note, velocity: on.velocity, start: on.start, length: e.time - on.start });
    }
  }
  return notes;
}

/** What the stage skipped: presets that did not parse or decode, with the reason. */
export interface Skipped {
  file: string;
  reason: string;
}

/**
 * Renders every planned unit (skipping finished ones) and cuts a clip at
 * each event. A preset that does not parse or whose zones do not decode is
 * skipped with a warning and reported in `skipped`; a listed preset file
 * that is missing stops the build with an error naming it.
 *
 * @param ctx Build settings.
 * @param jobs From {@link planWebAudioFont}.
 * @param options `dir` of the presets and `foreign` zones to leave out.
 * @returns Candidates and skipped presets.
 */
export async function renderWebAudioFont(
  ctx: BuildContext,
  jobs: readonly ReturnType<typeof planWebAudioFont>[number][],
  options: { dir?: string; foreign?: ReadonlySet<string> } = {},
): Promise<{ candidates: Candidate[]; skipped: Skipped[] }> {
  const dir = options.dir ?? webAudioFontDir();
  const candidates: Candidate[] = [];
  const skipped: Skipped[] = [];
  let done = 0;
  for (const job of jobs) {
    const unit = `webaudiofont-${job.bank}:${job.label}:${job.preset}`;
    try {
      candidates.push(...await cachedUnit(ctx, "webaudiofont", unit, () => renderJob(ctx, job, dir, options.foreign)));
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) throw error;
      const reason = (error as Error).message.split("\n")[0]!.slice(0, 200);
      console.error(`\nSkipping WebAudioFont ${unit}: ${reason}`);
      skipped.push(...job.files.map((f) => ({ file: f.file, reason })));
    }
    ctx.progress("webaudiofont", ++done, jobs.length);
  }
  return { candidates, skipped };
}

async function renderJob(
  ctx: BuildContext,
  job: ReturnType<typeof planWebAudioFont>[number],
  dir: string,
  foreign: ReadonlySet<string> | undefined,
): Promise<Candidate[]> {
  const voicesByKey = new Map<number | null, Voice[]>();
  for (const { file, key } of job.files) {
    const text = await readText(join(dir, file), "preset file");
    let zones: Zone[];
    try {
      zones = parsePreset(text);
    } catch (error) {
      throw new SyntaxError(`${file} does not parse: ${(error as Error).message}`);
    }
    const usable = zones.map((zone, i) => ({ zone, i })).filter(({ zone, i }) =>
      zone.keyRangeLow <= zone.keyRangeHigh && !foreign?.has(`${file}#${i}`)
    );
    if (usable.length === 0) throw new RangeError(`${file} has no usable zone`);
    const voices: Voice[] = [];
    for (const { zone, i } of usable) {
      try {
        voices.push({ zone, samples: await decodeZone(zone) });
      } catch (error) {
        throw new RangeError(`${file} zone ${i} does not decode: ${(error as Error).message}`);
      }
    }
    voicesByKey.set(key, voices);
  }
  const random: Random = createRandom(`${ctx.seed}:webaudiofont:${job.bank}:${job.label}:${job.preset}`);
  const { midi, slots }: { midi: MidiEvent[]; slots: Scheduled[] } = job.mapping
    ? melodicEvents(job.mapping, job.events, random)
    : percussionEvents(
      job.label as "drums" | "cymbals",
      job.events,
      random,
      job.files.map((f) => f.key!).sort((a, b) => a - b),
    );
  const seconds = (slots.at(-1)?.time ?? 0) + SLOT_SECONDS + 1;
  const mix = new Float32Array(Math.ceil(seconds * SAMPLE_RATE));
  for (const n of notesOf(midi)) {
    const voices = voicesByKey.get(job.mapping ? null : n.note)!;
    const voice = voices[pickZone(voices.map((v) => v.zone), n.note)]!;
    // Drum hits ring out to their sample's end (as the player queues them), melodic notes stop at their note-off.
    playNote(mix, voice, n.note, n.velocity, n.start, job.mapping ? n.length : 1.5);
  }
  for (let i = 0; i < mix.length; i++) mix[i] = Math.max(-1, Math.min(1, mix[i]!));
  const base = `${job.bank}_${job.label}_${job.preset}`;
  const source = `webaudiofont-${job.bank}`;
  const out: Candidate[] = [];
  for (let k = 0; k < slots.length; k++) {
    const slot = slots[k]!;
    const clip = cutClip(mix, slot.time);
    let peak = 0;
    for (const v of clip) peak = Math.max(peak, Math.abs(v));
    if (peak < 1e-3) continue;
    const path = `audio/rendered/${source}/${job.label}/${base}_${String(k).padStart(3, "0")}.wav`;
    await writeClip(join(ctx.dataDir, path), clip);
    out.push({
      id: `audio/rendered/${source}/${job.label}/${base}#${String(k).padStart(3, "0")}`,
      root: "data",
      path,
      modality: "audio",
      label: job.label,
      domain: "rendered",
      source,
      group: job.group,
      unit: `webaudiofont-${job.bank}:${job.label}:${job.preset}`,
      origin: job.origin,
      license: LICENSE,
      startSeconds: slot.time,
      durationSeconds: CLIP_SECONDS,
      render: `${slot.kind} sampler`,
      heldout: false,
    });
  }
  return out;
}
