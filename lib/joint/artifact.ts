/**
 * Reads a trained artifact from the models folder and checks its sha256 against
 * `models/manifest.json`, so a missing, truncated or stale file stops start-up with a message
 * that says which file and how to rebuild it.
 *
 * @module
 */
import { join } from "node:path";
import { sha256Hex } from "../weights/sha256.ts";

/** Re-exported so artifact code and its callers hash one way. */
export { sha256Hex };

/** How to rebuild the artifacts (shown in every error). */
export const REBUILD_COMMAND = "npx --yes deno@2.9.6 task train";

/** A manifest entry for one artifact file. */
export interface ArtifactEntry {
  /** File name inside the models folder. */
  file: string;
  /** Hex sha256 of the file's bytes. */
  sha256: string;
  /** File size in bytes. */
  bytes?: number;
}

/**
 * Reads an artifact and verifies it.
 *
 * @param modelsDir The models folder.
 * @param entry The artifact's manifest entry.
 * @returns The file's bytes.
 * @throws {Error} naming the file and the rebuild command when it is missing or its sha256 differs.
 *
 * @example
 * ```ts
 * const bytes = await readArtifact("models", { file: "forest.json", sha256: "..." });
 * ```
 */
export async function readArtifact(modelsDir: string, entry: ArtifactEntry): Promise<Uint8Array> {
  const path = join(modelsDir, entry.file);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    throw new Error(
      `Cannot load trained artifact ${path}: ${(error as Error).message}. Rebuild it with \`${REBUILD_COMMAND}\``,
      { cause: error },
    );
  }
  const actual = await sha256Hex(bytes);
  if (actual !== entry.sha256) {
    throw new Error(
      `Cannot load trained artifact ${path}: sha256 ${actual} does not match ${entry.sha256} in manifest.json ` +
        `(corrupt, or from another training run). Rebuild it with \`${REBUILD_COMMAND}\``,
    );
  }
  return bytes;
}
