/**
 * Test helpers: converted encoder sessions (imported into the cache on first
 * use) and shared corpus / reference paths, resolved like lib/config.ts.
 *
 * @module
 */
import { join } from "node:path";
import { loadConfig } from "../../../lib/config.ts";
import { createSession, type Session } from "../../../lib/backend/onnx.ts";
import type { EncoderCard } from "../../../lib/encoders/card.ts";
import { ensureEncoders } from "../../../lib/weights/ensure_encoders.ts";

/** Shared weights folder. */
export const WEIGHTS_DIR: string = loadConfig().weightsDir;
/** Shared corpus folder. */
export const CORPUS_DIR: string = loadConfig().corpusDir;

const loaded = new Map<string, Promise<{ card: EncoderCard; session: Session }>>();

/** The card and an ONNX session of a named encoder, created once per test process. */
export function encoder(name: string): Promise<{ card: EncoderCard; session: Session }> {
  let entry = loaded.get(name);
  if (!entry) {
    entry = (async () => {
      const { card, onnxPath } = (await ensureEncoders({ names: [name], log: () => {} }))[name]!;
      return { card, session: await createSession(onnxPath, { threads: 1 }) };
    })();
    loaded.set(name, entry);
  }
  return entry;
}

/** Reads a float32 little-endian file. */
export function readFloats(path: string): Float32Array {
  const bytes = Deno.readFileSync(path);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Cosine similarity. */
export function cosine(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let dot = 0, xx = 0, yy = 0;
  for (let i = 0; i < x.length; i++) {
    dot += x[i]! * y[i]!;
    xx += x[i]! ** 2;
    yy += y[i]! ** 2;
  }
  return dot / Math.sqrt(xx * yy);
}

/** Largest absolute element-wise difference. */
export function maxAbsDiff(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(x[i]! - y[i]!));
  return worst;
}

/** AudioSet display names, in score order. */
export function audioSetNames(): string[] {
  return Deno.readTextFileSync(join(WEIGHTS_DIR, "yamnet_class_map.csv")).trim().split(/\r?\n/).slice(1)
    .map((line) => line.split(",").slice(2).join(",").replace(/"/g, ""));
}
