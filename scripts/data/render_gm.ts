/**
 * Soundfont stage: renders General MIDI programs and drum kits with
 * fluidsynth (dry and with reverb), then cuts a 1 s clip at every event.
 *
 * Each render is one MIDI file of events spaced {@link SLOT_SECONDS} apart:
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
import {
  type BuildContext,
  cachedUnit,
  type Candidate,
  CLIP_SECONDS,
  decodeWithRetry,
  SAMPLE_RATE,
  writeClip,
} from "./common.ts";
import { type MidiEvent, writeSmf } from "./smf.ts";

/** A soundfont to render. */
export interface Soundfont {
  /** Short name, used as the item `source`. */
  name: string;
  /** Installed file. */
  file: string;
  /** Debian package providing it. */
  package: string;
  /** Split group family: soundfonts sharing samples share a family. */
  family: string;
  /** Licence of the soundfont. */
  license: string;
  /** True when the whole soundfont is held out. */
  heldout: boolean;
}

/** The soundfonts used. FluidR3 and MuseScore General share samples: one family. */
export const SOUNDFONTS: readonly Soundfont[] = [
  {
    name: "fluidr3",
    file: "/usr/share/sounds/sf2/FluidR3_GM.sf2",
    package: "fluid-soundfont-gm",
    family: "gm-fluidmuse",
    license: "MIT",
    heldout: false,
  },
  {
    name: "musescore",
    file: "/usr/share/sounds/sf3/MuseScore_General_Full.sf3",
    package: "musescore-general-soundfont",
    family: "gm-fluidmuse",
    license: "MIT",
    heldout: false,
  },
  {
    name: "timgm6mb",
    file: "/usr/share/sounds/sf2/TimGM6mb.sf2",
    package: "timgm6mb-soundfont",
    family: "gm-timgm6mb",
    license: "GPL-2.0",
    heldout: true,
  },
];

/** Seconds between events: the longest note (1.5 s) plus room for its release. */
export const SLOT_SECONDS = 2.2;
const LEAD_IN = 0.5;
const VELOCITIES = [40, 64, 90, 118];
const LENGTHS = [0.3, 0.6, 1.0, 1.5];
const CHORDS = [[0, 4, 7], [0, 3, 7], [0, 4, 7, 11], [0, 3, 7, 10], [0, 7, 12], [0, 4, 7, 12]];
const STRUM_SHAPES = [[0, 7, 12, 16, 19, 24], [0, 7, 12, 15, 19, 24], [0, 5, 10, 15, 19, 24], [0, 7, 10, 16, 19]];

interface Scheduled {
  time: number;
  kind: string;
}

function melodicEvents(
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

function percussionEvents(label: "drums" | "cymbals", count: number, random: Random) {
  const keys = GM_PERCUSSION_KEYS[label].map((k) => k.key);
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

/** One fluidsynth run. */
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

async function fluidsynth(soundfont: string, midiPath: string, wavPath: string, reverb: boolean): Promise<void> {
  const args = [
    "-ni",
    "-q",
    "-R",
    reverb ? "1" : "0",
    "-C",
    "0",
    "-g",
    "0.6",
    "-r",
    String(SAMPLE_RATE),
    "-o",
    "synth.dynamic-sample-loading=1",
    "-F",
    wavPath,
    soundfont,
    midiPath,
  ];
  const { code, stderr } = await new Deno.Command("nice", {
    args: ["-n", "10", "fluidsynth", ...args],
    stdout: "null",
    stderr: "piped",
  })
    .output();
  if (code !== 0) {
    throw new Error(`fluidsynth failed (${code}) on ${midiPath}: ${new TextDecoder().decode(stderr).slice(0, 300)}`);
  }
}

/** Plans the renders. `perLabel` events per label and soundfont, at least `minPerProgram` per program. */
export function planRenders(
  options: { perLabel: number; minPerProgram: number; labels?: readonly Label[]; maxPrograms?: number },
): RenderJob[] {
  const jobs: RenderJob[] = [];
  const wanted = (label: Label) => !options.labels || options.labels.includes(label);
  for (const soundfont of SOUNDFONTS) {
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
  const tmpDir = join(ctx.dataDir, ".tmp");
  await Deno.mkdir(tmpDir, { recursive: true });
  for (const job of jobs) {
    const variant = job.reverb ? "reverb" : "dry";
    const unit = `${job.soundfont.name}:${job.label}:${job.preset}:${variant}`;
    const clips = await cachedUnit(ctx, "soundfont", unit, async () => {
      const random = createRandom(`${ctx.seed}:render:${unit}`);
      const { midi, slots } = job.build(random);
      const base = `${job.soundfont.name}_${job.label}_${job.preset}_${variant}`;
      const midiPath = join(tmpDir, `${base}.mid`);
      const wavPath = join(tmpDir, `${base}.wav`);
      await Deno.writeFile(midiPath, writeSmf(midi));
      await fluidsynth(job.soundfont.file, midiPath, wavPath, job.reverb);
      const samples = await decodeWithRetry(await Deno.readFile(wavPath), 3600);
      await Deno.remove(midiPath);
      await Deno.remove(wavPath);
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
          origin: `debian:${job.soundfont.package}:${
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
