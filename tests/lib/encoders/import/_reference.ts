/**
 * Readers for `../shared/weights` and its `reference/` embeddings.
 *
 * @module
 */
import { join } from "node:path";
import { loadConfig } from "../../../../lib/config.ts";

/** The shared weights folder. */
export const WEIGHTS_DIR: string = loadConfig().weightsDir;

/** Bytes of a file in the weights folder. */
export function weightsFile(name: string): Uint8Array {
  return Deno.readFileSync(join(WEIGHTS_DIR, name));
}

/** Little-endian float32 file in the weights folder as a Float32Array. */
export function floats(name: string): Float32Array {
  const b = weightsFile(name);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
}

/** The float input the reference used for `input` (see reference/README.md). */
export function referenceInput(
  input: string,
  quant?: { scale: number; zeroPoint: number },
): { data: Float32Array; dims: number[] } {
  if (input === "yamnet_test_spectra") return { data: floats("fixtures/yamnet_test_spectra.bin"), dims: [1, 96, 64] };
  if (input === "yamnet_test_audio") {
    const b = weightsFile("fixtures/yamnet_test_audio.bin");
    const int16 = new Int16Array(b.buffer, b.byteOffset, b.byteLength / 2);
    return { data: Float32Array.from(int16, (v) => v / 32768), dims: [1, 15600] };
  }
  if (quant === undefined) throw new TypeError(`Image input ${input} needs quantisation constants`);
  const q = weightsFile(`reference/inputs/${input}_224x224_rgb_uint8.bin`);
  return { data: Float32Array.from(q, (v) => (v - quant.zeroPoint) * quant.scale), dims: [1, 224, 224, 3] };
}

/** Cosine similarity and max abs difference of two vectors. */
export function compare(a: Float32Array, b: Float32Array): { cosine: number; maxAbs: number } {
  if (a.length !== b.length) throw new RangeError(`Length ${a.length} != ${b.length}`);
  let dot = 0, na = 0, nb = 0, maxAbs = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! ** 2;
    nb += b[i]! ** 2;
    maxAbs = Math.max(maxAbs, Math.abs(a[i]! - b[i]!));
  }
  return { cosine: dot / Math.sqrt(na * nb), maxAbs };
}

/** Index of the largest value. */
export function argmax(v: Float32Array): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i]! > v[best]!) best = i;
  return best;
}
