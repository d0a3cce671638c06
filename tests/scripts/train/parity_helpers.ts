/**
 * Checks trained artifacts, as the TS runtime loads them, against the outputs the Python
 * training scripts dumped (`<work>/parity/`): scikit-learn's predict_proba, PyTorch's translator
 * outputs and numpy's PCA projections.
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Classifier } from "../../../lib/classify/classifier.ts";
import { type ModelManifest, readModelManifest } from "../../../lib/joint/model_manifest.ts";
import type { Pca } from "../../../scripts/train/pca.ts";
import type { Translator } from "../../../lib/joint/translator.ts";

/** Reads a raw little-endian float32 file. */
export async function readF32(path: string): Promise<Float32Array> {
  const bytes = await Deno.readFile(path);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** The committed parity fixture (a slice of the training run's dumps, see scripts/train/export_parity_fixture.ts). */
export const PARITY_FIXTURE = new URL("../../fixtures/parity/", import.meta.url).pathname;

/**
 * The committed models' manifest and the parity fixture folder, after checking that the fixture's
 * index.json names exactly the sha256 of every artifact in the manifest.
 *
 * @throws Error naming the rebuild command when the fixture belongs to other models.
 */
export async function committedParity(modelsDir: string): Promise<{ manifest: ModelManifest; dir: string }> {
  const manifest = await readModelManifest(modelsDir);
  const index = JSON.parse(await Deno.readTextFile(join(PARITY_FIXTURE, "index.json")));
  const want = Object.fromEntries(Object.entries(manifest.artifacts).map(([k, a]) => [k, a.sha256]));
  assert.deepEqual(
    index.artifacts,
    want,
    `the sha256s in tests/fixtures/parity/index.json (${index.version}) do not match the committed models ` +
      `(${manifest.version}): ` +
      `rebuild it with \`${index.rebuild ?? "npx --yes deno@2.9.6 task train"}\` ` +
      "(or, from an existing run's .cache/train/parity/, `npx --yes deno@2.9.6 run -A scripts/train/export_parity_fixture.ts`)",
  );
  return { manifest, dir: PARITY_FIXTURE };
}

function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}

/**
 * Same argmax as the Python head (scikit-learn forest or logistic regression, PyTorch MLP) on every
 * dumped classify-test row, probabilities within the dump's tolerance (1e-6 for forests; float32
 * rounding of dense heads' parameters allows up to 1e-5).
 *
 * @returns The number of rows compared.
 */
export async function assertHeadParity(head: Classifier, dir: string): Promise<number> {
  const meta = JSON.parse(await Deno.readTextFile(join(dir, "head_test.json")));
  const x = await readF32(join(dir, "head_test_in.f32"));
  const p = await readF32(join(dir, "head_test_proba.f32"));
  const n = meta.rows as number, d = meta.dim as number, k = head.labels.length;
  const tolerance = (meta.tolerance as number | undefined) ?? 1e-6;
  assert.ok(tolerance <= 1e-5, `tolerance ${tolerance}`);
  assert.deepEqual(meta.labels, head.labels);
  assert.equal(x.length, n * d);
  assert.equal(p.length, n * k);
  let worst = 0;
  for (let r = 0; r < n; r++) {
    const got = head.predictProba(x.subarray(r * d, (r + 1) * d));
    const want = p.subarray(r * k, (r + 1) * k);
    for (let c = 0; c < k; c++) worst = Math.max(worst, Math.abs(got[c]! - want[c]!));
    assert.equal(argmax(got), argmax(want), `row ${r} (${meta.ids[r]})`);
  }
  assert.ok(worst <= tolerance, `max |p_ts - p_python| = ${worst} (tolerance ${tolerance})`);
  return n;
}

/**
 * The ONNX head (through lib/backend/onnx.ts) gives PyTorch's outputs within 1e-4.
 *
 * @returns The largest absolute difference.
 */
export async function assertTranslatorParity(head: Translator, dir: string, modality: string): Promise<number> {
  const x = await readF32(join(dir, `translator_${modality}_in.f32`));
  const want = await readF32(join(dir, `translator_${modality}_out.f32`));
  const got = await head.translate(x);
  assert.equal(got.length, want.length);
  let worst = 0;
  for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
  assert.ok(worst <= 1e-4, `${modality} head: max |onnx - torch| = ${worst}`);
  return worst;
}

/**
 * The TS PCA gives numpy's projections within 1e-5 (relative to the output scale).
 *
 * @returns The largest absolute difference.
 */
export async function assertPcaParity(pca: Pca, dir: string, modality: string): Promise<number> {
  const x = await readF32(join(dir, `pca_${modality}_in.f32`));
  const want = await readF32(join(dir, `pca_${modality}_out.f32`));
  const n = x.length / pca.dimIn;
  assert.equal(want.length, n * pca.dim);
  let worst = 0, scale = 1;
  for (let r = 0; r < n; r++) {
    const got = pca.project(x.subarray(r * pca.dimIn, (r + 1) * pca.dimIn));
    for (let c = 0; c < pca.dim; c++) {
      worst = Math.max(worst, Math.abs(got[c]! - want[r * pca.dim + c]!));
      scale = Math.max(scale, Math.abs(want[r * pca.dim + c]!));
    }
  }
  assert.ok(worst <= 1e-5 * scale, `${modality} PCA: max |ts - numpy| = ${worst} (scale ${scale})`);
  return worst;
}
