/**
 * PCA projection (the paper's baseline feature space) from the JSON written by
 * `scripts/train/pca.py`.
 *
 * Format `amodal-pca/1`: `{"format", "fit_on", "audio": P, "image": P}` with
 * P = `{dim_in, dim, mean: number[dim_in], components: number[dim * dim_in]}` (row-major, one
 * principal axis per row); `project(x) = components · (x − mean)`. Parameters are float32 values;
 * the arithmetic runs in float64, as in the Python side, so both agree to float32 rounding.
 *
 * @module
 */

/** One modality's PCA parameters as stored in the JSON. */
export interface PcaJson {
  dim_in: number;
  dim: number;
  mean: number[];
  components: number[];
}

/** A loaded PCA projection. */
export interface Pca {
  /** Input (encoder embedding) length. */
  readonly dimIn: number;
  /** Output length. */
  readonly dim: number;
  /**
   * Projects one embedding.
   *
   * @param x A vector of `dimIn` numbers.
   * @returns The `dim` principal-component scores.
   * @throws {RangeError} when `x` has the wrong length.
   */
  project(x: ArrayLike<number>): Float32Array;
}

/**
 * Reads one modality's projection from a PCA file.
 *
 * @param json The whole PCA file, parsed or as text.
 * @param modality `"audio"` or `"image"`.
 * @returns The projection.
 * @throws {SyntaxError} when the format or the array sizes are wrong.
 *
 * @example
 * ```ts
 * const pca = loadPca(await Deno.readTextFile("models/pca.json"), "audio");
 * pca.project(new Float32Array(pca.dimIn)).length; // 128
 * ```
 */
export function loadPca(json: unknown, modality: "audio" | "image"): Pca {
  const file = (typeof json === "string" ? JSON.parse(json) : json) as Record<string, unknown>;
  if (file?.format !== "amodal-pca/1") {
    throw new SyntaxError(`Cannot load PCA: format is "${file?.format}", expected "amodal-pca/1"`);
  }
  const p = file[modality] as Partial<PcaJson> | undefined;
  const dimIn = p?.dim_in ?? 0, dim = p?.dim ?? 0;
  if (!p || !(dimIn > 0 && dim > 0) || p.mean?.length !== dimIn || p.components?.length !== dim * dimIn) {
    throw new SyntaxError(
      `Cannot load PCA for ${modality}: needs dim_in, dim, mean[dim_in] and components[dim * dim_in] ` +
        `(got dim_in ${dimIn}, dim ${dim}, mean ${p?.mean?.length}, components ${p?.components?.length})`,
    );
  }
  const mean = Float64Array.from(Float32Array.from(p.mean));
  const components = Float64Array.from(Float32Array.from(p.components));
  return {
    dimIn,
    dim,
    project(x: ArrayLike<number>): Float32Array {
      if (x.length !== dimIn) throw new RangeError(`Cannot project: input has length ${x.length}, expected ${dimIn}`);
      const centred = new Float64Array(dimIn);
      for (let j = 0; j < dimIn; j++) centred[j] = x[j]! - mean[j]!;
      const out = new Float32Array(dim);
      for (let i = 0; i < dim; i++) {
        let s = 0;
        const row = i * dimIn;
        for (let j = 0; j < dimIn; j++) s += components[row + j]! * centred[j]!;
        out[i] = s;
      }
      return out;
    },
  };
}
