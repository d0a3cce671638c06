/**
 * Loads `models/encoders.json`: the encoder cards and the pinned label files.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import type { EncoderCard } from "../encoders/card.ts";

/** A pinned auxiliary file (class names) listed in `models/encoders.json`. */
export interface LabelsFile {
  /** Expected SHA-256, lowercase hex. */
  sha256: string;
  /** Size in bytes. */
  bytes: number;
  /** Pinned URL. */
  url: string;
  /** Licence. */
  license: string;
}

/** Contents of `models/encoders.json`. */
export interface EncoderCatalog {
  /** One card per encoder. */
  encoders: EncoderCard[];
  /** Label files by file name (as referenced by `outputs.scores.labels`). */
  labels: Record<string, LabelsFile>;
}

/** Default location of the catalog, independent of the working directory. */
export const ENCODERS_JSON: string = fileURLToPath(
  new URL("../../models/encoders.json", import.meta.url),
);

/**
 * Reads and minimally validates the encoder catalog.
 *
 * @param path Catalog file. @default {ENCODERS_JSON}
 * @returns The cards and label files.
 * @throws {SyntaxError} When the file is not a catalog.
 * @example
 * ```ts
 * const { encoders } = await loadEncoderCatalog();
 * console.log(encoders.map((c) => c.name)); // ["yamnet", ...]
 * ```
 */
export async function loadEncoderCatalog(path: string = ENCODERS_JSON): Promise<EncoderCatalog> {
  const json = JSON.parse(await Deno.readTextFile(path));
  if (!Array.isArray(json?.encoders)) {
    throw new SyntaxError(`Cannot read ${path}: no "encoders" array`);
  }
  for (const card of json.encoders) {
    for (const key of ["name", "file", "sha256", "url"]) {
      if (typeof card?.[key] !== "string") {
        throw new SyntaxError(`Cannot read ${path}: a card lacks string "${key}"`);
      }
    }
  }
  return { encoders: json.encoders, labels: json.labels ?? {} };
}
