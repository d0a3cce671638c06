/**
 * Paths into the shared corpus (read-only), as `lib/config.ts` resolves it.
 *
 * @module
 */
import { join } from "node:path";
import { loadConfig } from "../../../lib/config.ts";

const { corpusDir } = loadConfig();

/** Reads a corpus file by its manifest path (e.g. `images/jray/banjo/0025.jpg`). */
export function corpusFile(path: string): Promise<Uint8Array> {
  return Deno.readFile(join(corpusDir, path));
}

/** A 224x224 JPEG photo (gpiosenka). */
export const CORPUS_JPEG = "images/gpiosenka/banjo/train_001.jpg";
/** A 108x140 palette PNG stored with a `.jpg` name (jray): sniffing must ignore the name. */
export const CORPUS_PNG = "images/jray/banjo/0025.jpg";
/** A 4 s FLAC (estuary cello, 48 kHz stereo source). */
export const CORPUS_FLAC = "audio/estuary/cello/cbow__00_C2_bowed_long_open.flac";
