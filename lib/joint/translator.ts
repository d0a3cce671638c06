/**
 * Translator heads: map an encoder embedding into the 128-d joint space with the ONNX graph
 * exported by `scripts/train/translate.py` (Linear -> BatchNorm -> ELU -> Linear, L2-normalised),
 * run through `lib/backend/onnx.ts`.
 *
 * @module
 */
import { createSession, type Session, type SessionOptions } from "../backend/onnx.ts";

/** What a head's graph looks like (from its manifest entry). */
export interface TranslatorSpec {
  /** Input tensor name (`audio` / `image`). */
  input: string;
  /** Output tensor name (`audio_joint` / `image_joint`). */
  output: string;
  /** Embedding length the head expects. */
  dimIn: number;
  /** Joint-space length. */
  dim: number;
}

/** One loaded translator head. */
export interface Translator {
  /** The head's spec. */
  readonly spec: TranslatorSpec;
  /**
   * Maps a batch of embeddings (row-major, `dimIn` each) to joint embeddings (`dim` each).
   *
   * @param embeddings `n * dimIn` numbers.
   * @returns `n * dim` numbers, each row of unit length.
   * @throws {RangeError} when the length is not a positive multiple of `dimIn`.
   */
  translate(embeddings: Float32Array): Promise<Float32Array>;
}

/**
 * Loads a translator head.
 *
 * @param model The ONNX graph's bytes (already sha256-checked) or its path.
 * @param spec Input/output names and sizes.
 * @param options `threads`: intra-op threads for the session; `backend`: web or node.
 * @returns A translator.
 *
 * @example
 * ```ts
 * const head = await loadTranslator("models/translator_audio.onnx",
 *   { input: "audio", output: "audio_joint", dimIn: 1024, dim: 128 });
 * const z = await head.translate(new Float32Array(1024));
 * ```
 */
export async function loadTranslator(
  model: Uint8Array | string,
  spec: TranslatorSpec,
  options: Pick<SessionOptions, "threads" | "backend" | "spin"> = {},
): Promise<Translator> {
  const session: Session = await createSession(model, options);
  return {
    spec,
    async translate(embeddings: Float32Array): Promise<Float32Array> {
      const n = embeddings.length / spec.dimIn;
      if (!Number.isInteger(n) || n < 1) {
        throw new RangeError(
          `Cannot translate: ${embeddings.length} values is not a positive multiple of the ${spec.dimIn}-d embedding`,
        );
      }
      const out = await session.run({ [spec.input]: { data: embeddings, dims: [n, spec.dimIn] } });
      const y = out[spec.output];
      if (!y) throw new Error(`Translator graph has no output "${spec.output}"`);
      return y.data as Float32Array;
    },
  };
}
