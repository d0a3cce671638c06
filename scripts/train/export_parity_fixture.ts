/**
 * Copies a small, committable slice of a training run's parity dumps (scikit-learn / PyTorch /
 * numpy outputs, `.cache/train/parity/<head sha8>/`) into `tests/fixtures/parity/`, so the
 * parity tests of the committed models run on a fresh checkout and in CI.
 *
 * Kept: the whole classify-test split for the head (~500 x 128 joint features + probabilities),
 * and the first real rows plus the synthetic extreme rows for the translators and the PCA.
 * `index.json` records the sha256 of every model artifact the dumps belong to; the tests refuse a
 * fixture that does not match `models/manifest.json`.
 *
 * Usage: `npx --yes deno@2.9.6 run -A scripts/train/export_parity_fixture.ts [--from DIR] [--models DIR] [--out DIR]`
 * (run at the end of `deno task train`).
 *
 * @module
 */
import { REPO_ROOT } from "../../lib/config.ts";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { REBUILD_COMMAND } from "../../lib/joint/artifact.ts";
import { readModelManifest } from "../../lib/joint/model_manifest.ts";

/** Where the committed fixture lives. */
export const PARITY_FIXTURE_DIR = join(REPO_ROOT, "tests", "fixtures", "parity");

/** Real held-out rows kept per modality for the translator and PCA checks. */
const REAL_ROWS = 24;
/** Synthetic extreme rows translate.py appends after its real rows (kept: they probe saturation). */
const SYNTHETIC_ROWS = 4;

/** What `index.json` in the fixture says. */
export interface ParityFixtureIndex {
  format: "amodal-parity-fixture/1";
  /** Model version from manifest.json the dumps were made with. */
  version: string;
  /** sha256 of each artifact in models/manifest.json, by artifact name. */
  artifacts: Record<string, string>;
  /** Rows per file group. */
  rows: { head: number; translator: Record<string, number>; pca: Record<string, number> };
  rebuild: string;
}

async function readF32(path: string): Promise<Float32Array> {
  const bytes = await Deno.readFile(path);
  return new Float32Array(bytes.slice().buffer);
}

function bytesOf(x: Float32Array): Uint8Array {
  return new Uint8Array(x.buffer, x.byteOffset, x.byteLength);
}

/** Rows [0, real) and the last `synthetic` rows of a row-major matrix with `dim` columns. */
function pick(x: Float32Array, dim: number, real: number, synthetic: number): Float32Array {
  const n = x.length / dim;
  if (!Number.isInteger(n) || n < real + synthetic) throw new Error(`parity dump has ${n} rows of ${dim}`);
  const out = new Float32Array((real + synthetic) * dim);
  out.set(x.subarray(0, real * dim));
  out.set(x.subarray((n - synthetic) * dim), real * dim);
  return out;
}

/**
 * Writes the fixture from a full run's parity folder.
 *
 * @param from The run's parity dumps (`.cache/train/parity/<head sha8>`).
 * @param modelsDir The models folder whose manifest the dumps belong to.
 * @param out The fixture folder (replaced file by file).
 * @returns The index written.
 */
export async function exportParityFixture(from: string, modelsDir: string, out: string): Promise<ParityFixtureIndex> {
  const manifest = await readModelManifest(modelsDir);
  await Deno.mkdir(out, { recursive: true });
  // The classifier head: every classify-test row, unchanged.
  const headMeta = JSON.parse(await Deno.readTextFile(join(from, "head_test.json")));
  for (const f of ["head_test.json", "head_test_in.f32", "head_test_proba.f32"]) {
    await Deno.copyFile(join(from, f), join(out, f));
  }
  // Files of the forest-only fixtures before the head could be a dense one.
  for (const f of ["forest_test.json", "forest_test_in.f32", "forest_test_proba.f32"]) {
    await Deno.remove(join(out, f)).catch(() => {});
  }
  const rows: ParityFixtureIndex["rows"] = { head: headMeta.rows, translator: {}, pca: {} };
  for (const modality of ["audio", "image"] as const) {
    const spec = manifest.artifacts[`translator_${modality}`];
    // translate.py: real rows then SYNTHETIC_ROWS extreme ones; pca.py: real rows only.
    for (const [stage, dimOut, synthetic] of [["translator", spec.dim, SYNTHETIC_ROWS], ["pca", 128, 0]] as const) {
      const x = await readF32(join(from, `${stage}_${modality}_in.f32`));
      const y = await readF32(join(from, `${stage}_${modality}_out.f32`));
      const n = REAL_ROWS + synthetic;
      const yDim = y.length / (x.length / spec.dimIn);
      if (yDim !== dimOut) throw new Error(`${stage} ${modality}: outputs have ${yDim} columns, expected ${dimOut}`);
      await Deno.writeFile(
        join(out, `${stage}_${modality}_in.f32`),
        bytesOf(pick(x, spec.dimIn, REAL_ROWS, synthetic)),
      );
      await Deno.writeFile(join(out, `${stage}_${modality}_out.f32`), bytesOf(pick(y, dimOut, REAL_ROWS, synthetic)));
      rows[stage][modality] = n;
    }
  }
  const index: ParityFixtureIndex = {
    format: "amodal-parity-fixture/1",
    version: manifest.version,
    artifacts: Object.fromEntries(Object.entries(manifest.artifacts).map(([k, a]) => [k, a.sha256])),
    rows,
    rebuild: REBUILD_COMMAND,
  };
  await Deno.writeTextFile(join(out, "index.json"), JSON.stringify(index, null, 2) + "\n");
  return index;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { from: { type: "string" }, models: { type: "string" }, out: { type: "string" } },
  });
  const modelsDir = resolve(values.models ?? join(REPO_ROOT, "models"));
  const manifest = await readModelManifest(modelsDir);
  const from = resolve(
    values.from ?? join(REPO_ROOT, ".cache", "train", "parity", manifest.artifacts.head.sha256.slice(0, 8)),
  );
  const index = await exportParityFixture(from, modelsDir, resolve(values.out ?? PARITY_FIXTURE_DIR));
  console.log(`export_parity_fixture: ${index.version}: ${JSON.stringify(index.rows)}`);
}
