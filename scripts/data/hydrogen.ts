/**
 * Hydrogen drum-kit stage (opt-in, `deno task data --with-debian`: the kits
 * are Debian packages): one clip per sample file of the acoustic kits
 * (drums vs cymbals by the instrument's name in `drumkit.xml`) and of the
 * GuitarStrums kit (guitar).
 *
 * @module
 */
import { join } from "node:path";
import { chooseClipStarts, cutClip } from "../dataset/onsets.ts";
import { HYDROGEN_KITS, hydrogenInstrumentLabel } from "../dataset/label_map.ts";
import { createRandom } from "../shared/random.ts";
import type { Label } from "../../lib/labels.ts";
import {
  type BuildContext,
  cachedUnit,
  type Candidate,
  CLIP_SECONDS,
  decodeWithRetry,
  safeName,
  writeClip,
} from "./common.ts";

/** Where Debian installs Hydrogen kits. */
export const HYDROGEN_DIR = "/usr/share/hydrogen/data/drumkits";

/** Licence per kit folder (from the kit's drumkit.xml and Debian's copyright file). */
const KIT_LICENSES: Record<string, string> = {
  "Audiophob": "CC0-1.0",
  "BJA_Pacific": "CC-BY-SA-3.0-US",
  "ColomboAcousticDrumkit": "GPL-2.0-or-later",
  "ForzeeStereo": "GPL-2.0",
  "Millo-Drums_v.1": "GPL-2.0",
  "Millo_MultiLayered2": "GPL-2.0",
  "Millo_MultiLayered3": "GPL-2.0",
  "The Black Pearl 1.0": "GPL-2.0",
  "rumpf_kit_z01_h2": "CC-BY-3.0",
  "belofilms_GuitarStrums": "CC-BY-3.0",
};

/** One sample file of a kit with its label. */
export interface KitSample {
  kit: string;
  group: string;
  instrument: string;
  file: string;
  label: Label;
}

function decodeEntities(text: string): string {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&apos;/g, "'")
    .replace(/&amp;/g, "&");
}

/**
 * Lists the labelled sample files of every kit in {@link HYDROGEN_KITS}.
 *
 * @param dir Folder holding the kits.
 * @returns Samples sorted by kit then file.
 */
export async function listKitSamples(dir = HYDROGEN_DIR): Promise<KitSample[]> {
  const out: KitSample[] = [];
  for (const kit of HYDROGEN_KITS) {
    const xml = await Deno.readTextFile(join(dir, kit.dir, "drumkit.xml"));
    const seen = new Set<string>();
    for (const block of xml.match(/<instrument>[\s\S]*?<\/instrument>/g) ?? []) {
      const name = decodeEntities(/<name>([^<]*)<\/name>/.exec(block)?.[1]?.trim() ?? "");
      const label: Label | null = kit.guitar
        ? (name.startsWith("\\") ? null : "guitar")
        : hydrogenInstrumentLabel(name);
      if (!label) continue;
      for (const m of block.matchAll(/<filename>([^<]+)<\/filename>/g)) {
        const file = decodeEntities(m[1]!.trim());
        if (seen.has(file)) continue;
        seen.add(file);
        out.push({ kit: kit.dir, group: `${kit.group}:${label}`, instrument: name, file, label });
      }
    }
  }
  return out.sort((a, b) => (a.kit + "/" + a.file < b.kit + "/" + b.file ? -1 : 1));
}

async function decodeKitSample(path: string): Promise<Float32Array> {
  // The service's own decoders, AIFF included ("FORM", even when named .wav, as one Audiophob sample is).
  return await decodeWithRetry(await Deno.readFile(path), 30);
}

/**
 * Cuts one clip (at the first onset) per kit sample, at most `perGroup`
 * samples per kit group (evenly spread, seeded).
 *
 * @param ctx Build settings.
 * @param samples From {@link listKitSamples}.
 * @param perGroup Cap per group.
 * @returns One candidate per clip.
 */
export async function hydrogenClips(
  ctx: BuildContext,
  samples: readonly KitSample[],
  perGroup: number,
): Promise<Candidate[]> {
  const byGroup = new Map<string, KitSample[]>();
  for (const s of samples) byGroup.set(s.group, [...(byGroup.get(s.group) ?? []), s]);
  const chosen: KitSample[] = [];
  for (const group of [...byGroup.keys()].sort()) {
    const random = createRandom(`${ctx.seed}:hydrogen:${group}`);
    chosen.push(...random.shuffle(byGroup.get(group)!).slice(0, perGroup));
  }
  chosen.sort((a, b) => (a.kit + "/" + a.file < b.kit + "/" + b.file ? -1 : 1));
  const out: Candidate[] = [];
  let done = 0;
  for (const sample of chosen) {
    const unit = `hydrogen:${sample.kit}/${sample.file}`;
    const clips = await cachedUnit(ctx, "hydrogen", unit, async () => {
      const source = join(HYDROGEN_DIR, sample.kit, sample.file);
      const samples = await decodeKitSample(source);
      const starts = chooseClipStarts(samples, { maxClips: 1 });
      if (starts.length === 0) return [];
      const base = `${safeName(sample.kit)}/${safeName(sample.file.replace(/\.[^.]+$/, ""))}`;
      const path = `audio/rendered/hydrogen/${sample.label}/${base}.wav`;
      await writeClip(join(ctx.dataDir, path), cutClip(samples, starts[0]!));
      return [{
        id: `audio/rendered/hydrogen/${sample.label}/${base}`,
        root: "data",
        path,
        modality: "audio",
        label: sample.label,
        domain: "rendered",
        source: "hydrogen",
        group: sample.group,
        unit,
        origin: `debian:${
          HYDROGEN_KITS.find((k) => k.dir === sample.kit)!.package
        }:${sample.kit}/${sample.file} "${sample.instrument}"`,
        license: KIT_LICENSES[sample.kit] ?? "see /usr/share/doc/hydrogen-drumkits/copyright",
        startSeconds: starts[0]!,
        durationSeconds: CLIP_SECONDS,
        render: "sample",
        heldout: false,
      }];
    });
    out.push(...clips);
    ctx.progress("hydrogen kits", ++done, chosen.length);
  }
  return out;
}
