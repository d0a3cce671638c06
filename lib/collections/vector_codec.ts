/**
 * Compact vectors for storage: a joint embedding is kept as int8 with one float32 scale (132 bytes for
 * 128 dimensions, against 512 as float32). Cosine search over the decoded vectors loses almost nothing:
 * on the corpus embeddings, top-10 recall against float32 search is measured in
 * `scripts/collections/compression.ts` (reports/collections/compression.json).
 *
 * Layout: little-endian float32 scale, then one int8 per dimension; value = int8 * scale / 127.
 *
 * @module
 */

/**
 * Encodes a vector as int8 + scale.
 *
 * @param vector Finite values.
 * @returns `4 + vector.length` bytes.
 * @throws {RangeError} When a value is not finite.
 *
 * @example
 * ```ts
 * const bytes = encodeInt8(new Float32Array([0.5, -1]));
 * decodeInt8(bytes); // Float32Array [~0.5, -1]
 * ```
 */
export function encodeInt8(vector: ArrayLike<number>): Uint8Array {
  let max = 0;
  for (let i = 0; i < vector.length; i++) {
    const v = vector[i]!;
    if (!Number.isFinite(v)) throw new RangeError(`Cannot encode vector: value ${i} is ${v}`);
    max = Math.max(max, Math.abs(v));
  }
  const out = new Uint8Array(4 + vector.length);
  new DataView(out.buffer).setFloat32(0, max, true);
  const q = new Int8Array(out.buffer, 4);
  for (let i = 0; i < vector.length; i++) q[i] = max === 0 ? 0 : Math.round((vector[i]! / max) * 127);
  return out;
}

/**
 * Decodes {@linkcode encodeInt8}'s bytes.
 *
 * @param bytes Scale and int8 values.
 * @param out Where to write (default: a new array).
 * @returns The approximate vector.
 */
export function decodeInt8(bytes: Uint8Array, out: Float32Array = new Float32Array(bytes.length - 4)): Float32Array {
  const scale = new DataView(bytes.buffer, bytes.byteOffset, 4).getFloat32(0, true) / 127;
  const q = new Int8Array(bytes.buffer, bytes.byteOffset + 4, bytes.length - 4);
  for (let i = 0; i < q.length; i++) out[i] = q[i]! * scale;
  return out;
}

/**
 * Encodes a vector as IEEE half floats (for the compression comparison).
 *
 * @param vector Finite values.
 * @returns `2 * vector.length` bytes.
 */
export function encodeFloat16(vector: ArrayLike<number>): Uint8Array {
  const half = new Float16Array(vector.length);
  for (let i = 0; i < vector.length; i++) half[i] = vector[i]!;
  return new Uint8Array(half.buffer);
}

/**
 * Decodes {@linkcode encodeFloat16}'s bytes.
 *
 * @param bytes Half floats, little-endian.
 * @returns The vector as float32.
 */
export function decodeFloat16(bytes: Uint8Array): Float32Array {
  return Float32Array.from(new Float16Array(bytes.slice().buffer));
}

/**
 * Scales a vector to unit length in place (a zero vector stays zero).
 *
 * @param v The vector.
 * @returns `v`.
 */
export function normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i]! * v[i]!;
  const norm = Math.sqrt(sum);
  if (norm > 0) { for (let i = 0; i < v.length; i++) v[i] = v[i]! / norm; }
  return v;
}
