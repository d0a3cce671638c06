/**
 * Shared pieces of the dataset builder: the candidate item type, clip
 * writing, and per-unit completion records that make re-runs incremental.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { decodeAudio } from "../../lib/media/decode_audio.ts";
import { encodeWav } from "../../lib/media/encode_wav.ts";
import type { ManifestItem } from "../dataset/manifest.ts";

/** A manifest item before splitting, plus whether its source is held out. */
export type Candidate = Omit<ManifestItem, "split" | "splitBy"> & { heldout: boolean };

/** Settings every stage gets. */
export interface BuildContext {
  /** Absolute data folder. */
  dataDir: string;
  /** Absolute corpus folder. */
  corpusDir: string;
  /** Base seed. */
  seed: number;
  /** Tiny CI build. */
  small: boolean;
  /** Progress reporter. */
  progress: (stage: string, done: number, total: number) => void;
}

/** Clip length in seconds (the paper's unit). */
export const CLIP_SECONDS = 1;
/** Clip sample rate. */
export const SAMPLE_RATE = 16000;

/** Replaces characters that are awkward in file names. */
export function safeName(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^_+|_+$/g, "");
}

/** Writes a 16 kHz mono 16-bit WAV, creating folders. */
export async function writeClip(path: string, samples: Float32Array): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  await Deno.writeFile(path, encodeWav(samples, SAMPLE_RATE));
}

/**
 * Runs `produce` for a unit unless a completion record exists; the record
 * (the unit's candidates as JSON) is written only after all its files, so an
 * interrupted build redoes exactly the unfinished units. The records are
 * manifest candidates, or another stage's rows (the negative set's).
 */
export function cachedUnit(
  ctx: BuildContext,
  stage: string,
  unitKey: string,
  produce: () => Promise<Candidate[]>,
): Promise<Candidate[]>;
export function cachedUnit<T>(
  ctx: BuildContext,
  stage: string,
  unitKey: string,
  produce: () => Promise<T[]>,
): Promise<T[]>;
export async function cachedUnit<T>(
  ctx: BuildContext,
  stage: string,
  unitKey: string,
  produce: () => Promise<T[]>,
): Promise<T[]> {
  const record = join(ctx.dataDir, ".units", stage, `${safeName(unitKey)}.json`);
  try {
    return JSON.parse(await Deno.readTextFile(record)) as T[];
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const candidates = await produce();
  await Deno.mkdir(dirname(record), { recursive: true });
  const tmp = `${record}.tmp`;
  await Deno.writeTextFile(tmp, JSON.stringify(candidates));
  await Deno.rename(tmp, record);
  return candidates;
}

/** Runs `work` over `inputs` with at most `limit` in flight, keeping input order in the result. */
export async function mapLimit<T, R>(
  inputs: readonly T[],
  limit: number,
  work: (input: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(inputs.length);
  let next = 0;
  const runners = Array.from({ length: Math.min(limit, inputs.length) }, async () => {
    while (next < inputs.length) {
      const index = next++;
      results[index] = await work(inputs[index]!, index);
    }
  });
  await Promise.all(runners);
  return results;
}

/**
 * `decodeAudio` with up to two retries. After several hundred files in one
 * process the ffmpeg.wasm core's ffprobe step sometimes fails once ("Expected
 * ':' after property name in JSON", then "Failed to set value ... for option
 * 'show_entries'"); the core is then replaced and the same file decodes fine.
 * Reported to the media owner; the retry keeps long builds going meanwhile.
 */
export async function decodeWithRetry(bytes: Uint8Array, maxSeconds: number): Promise<Float32Array> {
  for (let attempt = 0;; attempt++) {
    try {
      return (await decodeAudio(bytes, { maxSeconds })).samples;
    } catch (error) {
      if (attempt >= 2) throw error;
    }
  }
}
