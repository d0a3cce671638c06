/**
 * Corpus stage: 1 s clips cut at onsets from the corpus recordings, and the
 * corpus photos as references (they are not copied).
 *
 * @module
 */
import { join } from "node:path";
import { type Label, LABELS } from "../../lib/labels.ts";
import { chooseClipStarts, cutClip } from "../dataset/onsets.ts";
import { type BuildContext, cachedUnit, type Candidate, CLIP_SECONDS, decodeWithRetry, writeClip } from "./common.ts";

/** One row of the corpus `manifest.csv`. */
export interface CorpusRow {
  path: string;
  modality: "audio" | "image";
  label: Label;
  source: string;
  group: string;
  origin: string;
  license: string;
  sha256: string;
}

/** Corpus photo sources held out of every split but `heldout`. */
export const HELDOUT_PHOTO_SOURCES: ReadonlySet<string> = new Set(["jray"]);

/**
 * Reads the corpus manifest (a plain CSV without quoted fields).
 *
 * @param corpusDir The corpus folder.
 * @returns Rows sorted by path.
 */
export async function readCorpusManifest(corpusDir: string): Promise<CorpusRow[]> {
  const text = await Deno.readTextFile(join(corpusDir, "manifest.csv"));
  const [header, ...lines] = text.trim().split(/\r?\n/);
  const columns = header!.split(",");
  const expected = ["path", "modality", "label", "source", "group", "origin", "license", "sha256"];
  if (columns.join(",") !== expected.join(",")) {
    throw new SyntaxError(`Cannot read corpus manifest: columns are "${header}", expected "${expected.join(",")}"`);
  }
  const rows = lines.map((line, n) => {
    const cells = line.split(",");
    if (cells.length !== expected.length || line.includes('"')) {
      throw new SyntaxError(`Cannot read corpus manifest line ${n + 2}: expected ${expected.length} plain fields`);
    }
    const row = Object.fromEntries(expected.map((k, i) => [k, cells[i]!])) as unknown as CorpusRow;
    if (!(LABELS as readonly string[]).includes(row.label)) {
      throw new SyntaxError(`Cannot read corpus manifest line ${n + 2}: unknown label "${row.label}"`);
    }
    return row;
  });
  return rows.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Picks a few rows per label (for the small build): evenly spaced in path order. */
export function sampleRows(rows: readonly CorpusRow[], perLabel: number, labels: readonly Label[]): CorpusRow[] {
  const out: CorpusRow[] = [];
  for (const label of labels) {
    const mine = rows.filter((r) => r.label === label);
    const step = Math.max(1, Math.floor(mine.length / perLabel));
    for (let i = 0; i < mine.length && out.filter((r) => r.label === label).length < perLabel; i += step) {
      out.push(mine[i]!);
    }
  }
  return out;
}

/**
 * Cuts 1-3 clips at onsets from each corpus recording.
 *
 * @param ctx Build settings.
 * @param rows Audio rows of the corpus manifest.
 * @returns One candidate per clip.
 */
export async function corpusAudio(ctx: BuildContext, rows: readonly CorpusRow[]): Promise<Candidate[]> {
  const out: Candidate[] = [];
  let done = 0;
  for (const row of rows) {
    const clips = await cachedUnit(ctx, "corpus-audio-v2", row.path, async () => {
      const samples = await decodeWithRetry(await Deno.readFile(join(ctx.corpusDir, row.path)), 60);
      const starts = chooseClipStarts(samples, { maxClips: 3 });
      const base = row.path.replace(/^audio\//, "").replace(/\.[^.]+$/, "");
      const result: Candidate[] = [];
      for (let k = 0; k < starts.length; k++) {
        const path = `audio/recording/${base}__c${k}.wav`;
        await writeClip(join(ctx.dataDir, path), cutClip(samples, starts[k]!));
        result.push({
          id: `audio/recording/${base}#${k}`,
          root: "data",
          path,
          modality: "audio",
          label: row.label,
          domain: "recording",
          source: row.source,
          group: row.group,
          unit: row.path,
          origin: `corpus:${row.path} (${row.origin})`,
          license: row.license,
          startSeconds: starts[k]!,
          durationSeconds: CLIP_SECONDS,
          heldout: false,
        });
      }
      return result;
    });
    out.push(...clips);
    ctx.progress("corpus audio", ++done, rows.length);
  }
  return out;
}

/**
 * The corpus photos as items referencing the corpus folder.
 *
 * @param rows Image rows of the corpus manifest.
 * @returns One candidate per photo; sources in {@link HELDOUT_PHOTO_SOURCES} are held out.
 */
export function corpusPhotos(rows: readonly CorpusRow[]): Candidate[] {
  return rows.map((row) => ({
    id: `image/photo/${row.path.replace(/^images\//, "")}`,
    root: "corpus",
    path: row.path,
    modality: "image",
    label: row.label,
    domain: "photo",
    source: row.source,
    group: row.group,
    unit: row.path,
    origin: row.origin,
    license: row.license,
    heldout: HELDOUT_PHOTO_SOURCES.has(row.source),
  }));
}
