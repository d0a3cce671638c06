/**
 * Embeddings on the wire: the encoders and the translator compute float32, so the JSON form prints each
 * value with the fewest digits that read back as the same float32 (not the 17 digits of its float64
 * widening), and the base64 form carries the raw little-endian float32 bytes.
 *
 * @module
 */

/**
 * The shortest decimal that rounds to the same float32.
 *
 * @param value A float32 value (any number is first rounded to float32).
 * @returns A number whose decimal form has at most 9 significant digits.
 *
 * @example
 * ```ts
 * shortestFloat32(Math.fround(0.1)); // 0.1, where the float64 widening prints 0.10000000149011612
 * ```
 */
export function shortestFloat32(value: number): number {
  const f = Math.fround(value);
  if (!Number.isFinite(f) || f === 0) return f;
  for (let digits = 1; digits < 9; digits++) {
    const candidate = Number(f.toPrecision(digits));
    if (Math.fround(candidate) === f) return candidate;
  }
  return Number(f.toPrecision(9));
}

/**
 * Encodes values as little-endian float32 bytes in base64.
 *
 * @param values The embedding.
 * @returns `4 * values.length` bytes, base64-encoded.
 *
 * @example
 * ```ts
 * float32Base64([1]); // "AACAPw=="
 * ```
 */
export function float32Base64(values: ArrayLike<number>): string {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  for (let i = 0; i < values.length; i++) view.setFloat32(i * 4, values[i]!, true);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/**
 * Decodes {@linkcode float32Base64}'s output.
 *
 * @param text base64 of little-endian float32 bytes.
 * @returns The values.
 * @throws {RangeError} When the decoded length is not a multiple of 4.
 */
export function fromFloat32Base64(text: string): Float32Array {
  const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
  if (bytes.length % 4 !== 0) throw new RangeError(`Cannot decode float32 base64: ${bytes.length} bytes`);
  const view = new DataView(bytes.buffer);
  return Float32Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}
