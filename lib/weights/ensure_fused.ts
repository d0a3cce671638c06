/**
 * The fused encoder + translator graph of one modality (`lib/encoders/fuse/`), built on first use and kept in
 * `<cacheDir>/encoders/fused/`. Its file name holds the encoder graph's and the translator's sha256 and the fuser
 * version, so a retrained translator, a re-imported encoder or a new fuser makes a new file instead of reusing a
 * stale one.
 *
 * @module
 */
import { join } from "node:path";
import { FUSER_VERSION, fuseTranslator, type TranslatorIo } from "../encoders/fuse/fuse_translator.ts";
import { atomicWrite } from "./atomic_write.ts";
import { sha256Hex } from "./sha256.ts";

/** What {@linkcode ensureFused} fuses. */
export interface FuseSources {
  /** Cache root (`config.cacheDir`). */
  cacheDir: string;
  /** The imported encoder graph (`.cache/encoders/<name>.onnx`). */
  encoderPath: string;
  /** The translator head's bytes, already checked against the model manifest. */
  translator: Uint8Array;
  /** The translator's sha256 from the manifest. */
  translatorSha256: string;
  /** The head's input and output names and input length. */
  io: TranslatorIo;
}

/**
 * Returns the fused graph's path, fusing and writing it when the cache has none for these sources.
 *
 * @param sources The encoder graph, the translator and where to cache.
 * @returns The fused graph (its path; its bytes when the cache cannot be written, e.g. on a read-only edge
 *   platform) and whether this call built it.
 * @throws {RangeError} When the graphs cannot be fused (`fuseTranslator`).
 *
 * @example
 * ```ts
 * const { model } = await ensureFused({ cacheDir: ".cache", encoderPath: ".cache/encoders/yamnet.onnx",
 *   translator, translatorSha256: entry.sha256, io: entry });
 * ```
 */
export async function ensureFused(sources: FuseSources): Promise<{ model: string | Uint8Array; built: boolean }> {
  const encoder = await Deno.readFile(sources.encoderPath);
  const key = `${(await sha256Hex(encoder)).slice(0, 16)}-${sources.translatorSha256.slice(0, 16)}-v${FUSER_VERSION}`;
  const name = sources.encoderPath.split(/[\\/]/).at(-1)!.replace(/\.onnx$/, "");
  const path = join(sources.cacheDir, "encoders", "fused", `${name}+translator-${key}.onnx`);
  try {
    await Deno.stat(path);
    return { model: path, built: false };
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  const fused = fuseTranslator(encoder, sources.translator, sources.io);
  try {
    // Written whole or not at all: workers that fuse at the same time write the same bytes.
    await atomicWrite(path, fused);
  } catch {
    // A read-only file system (an edge isolate): serve the graph from memory, fuse again at the next start.
    return { model: fused, built: true };
  }
  return { model: path, built: true };
}
