import assert from "node:assert/strict";
import { float32Base64, fromFloat32Base64, shortestFloat32 } from "../../../lib/http/float32.ts";

Deno.test("shortestFloat32() prints the fewest digits that read back as the same float32", () => {
  const cases: [number, number][] = [[Math.fround(0.1), 0.1], [0, 0], [1, 1], [Math.fround(-2.5e-8), -2.5e-8]];
  for (const [input, expected] of cases) assert.equal(shortestFloat32(input), expected);
  // Random float32 values: always the same float32 back, never more than 9 significant digits.
  let seed = 7;
  for (let i = 0; i < 10_000; i++) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const value = Math.fround((seed / 2 ** 31 - 0.5) * 10 ** ((seed % 13) - 6));
    const short = shortestFloat32(value);
    assert.equal(Math.fround(short), value);
    assert.ok(short.toExponential().replace(/^-?|e.*$/g, "").replace(".", "").length <= 9, String(short));
  }
});

Deno.test("float32Base64() writes little-endian float32 and fromFloat32Base64() reads it back", () => {
  assert.equal(float32Base64([1]), "AACAPw==");
  const values = [0.5, -1e-20, 3.4e38, 0];
  assert.deepEqual(Array.from(fromFloat32Base64(float32Base64(values))), values.map(Math.fround));
  assert.throws(() => fromFloat32Base64("AAA="), RangeError);
});
