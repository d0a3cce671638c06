/**
 * Where the dataset lives: the generated data folder and the read-only corpus.
 *
 * @module
 */
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { DatasetRoots } from "./manifest.ts";

/** Repository root, from this file's location so the working directory does not matter. */
export const REPO_ROOT: string = resolve(fileURLToPath(new URL("../../", import.meta.url)));

/**
 * Resolves the dataset folders from the environment.
 *
 * @param env Variable lookup; defaults to `Deno.env.get`.
 * @returns `dataDir` (env `AMODAL_DATA_DIR`, default `data` under the repo
 *   root) and `corpusDir` (env `AMODAL_CORPUS_DIR`, default `<shared>/corpus`),
 *   both absolute.
 *
 * @example
 * ```ts
 * const { dataDir } = datasetRoots();
 * const items = await readManifest(join(dataDir, "manifest.jsonl"));
 * ```
 */
export function datasetRoots(env: (key: string) => string | undefined = (k) => Deno.env.get(k)): DatasetRoots {
  // Same default as the service configuration (AMODAL_SHARED_DIR, ../shared).
  const sharedDir = resolve(REPO_ROOT, env("AMODAL_SHARED_DIR") ?? "../shared");
  return {
    dataDir: resolve(REPO_ROOT, env("AMODAL_DATA_DIR") ?? "data"),
    corpusDir: resolve(REPO_ROOT, env("AMODAL_CORPUS_DIR") ?? join(sharedDir, "corpus")),
  };
}
