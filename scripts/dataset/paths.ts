/**
 * Where the dataset lives: the generated data folder and the read-only corpus.
 *
 * @module
 */
import { loadConfig } from "../../lib/config.ts";
import type { DatasetRoots } from "./manifest.ts";

export { REPO_ROOT } from "../../lib/config.ts";

/**
 * The dataset folders, as `lib/config.ts` resolves them.
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
  const { dataDir, corpusDir } = loadConfig(env);
  return { dataDir, corpusDir };
}
