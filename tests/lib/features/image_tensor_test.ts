import assert from "node:assert/strict";
import { toImageTensor } from "../../../lib/features/image_tensor.ts";

Deno.test("toImageTensor() dequantises with scale and zero point", () => {
  const cases: [string, { scale: number; zeroPoint: number }, number[], number[]][] = [
    ["MobileNet uint8 input", { scale: 1 / 128, zeroPoint: 128 }, [0, 127, 128, 255], [-1, -0.0078125, 0, 0.9921875]],
    ["[0, 1] scaling", { scale: 1 / 255, zeroPoint: 0 }, [0, 51, 255], [0, 0.2, 1]],
    ["identity", { scale: 1, zeroPoint: 0 }, [0, 7, 255], [0, 7, 255]],
  ];
  for (const [name, q, input, expected] of cases) {
    const out = toImageTensor(new Uint8Array(input), q);
    assert.ok(out instanceof Float32Array, name);
    assert.equal(out.length, input.length, name);
    out.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) < 1e-7, `${name}[${i}]: ${v} != ${expected[i]}`));
  }
});

Deno.test("toImageTensor() keeps the HWC layout of a 224x224 image", () => {
  const pixels = new Uint8Array(224 * 224 * 3).map((_, i) => i % 3 === 0 ? 255 : 0); // pure red
  const out = toImageTensor(pixels, { scale: 1 / 128, zeroPoint: 128 });
  assert.equal(out.length, 150528);
  assert.deepEqual(Array.from(out.subarray(3 * 1000, 3 * 1000 + 3)), [0.9921875, -1, -1]);
});

Deno.test("toImageTensor() rejects invalid quantisation", () => {
  const px = new Uint8Array(3);
  for (
    const q of [{ scale: 0, zeroPoint: 0 }, { scale: -1, zeroPoint: 0 }, { scale: NaN, zeroPoint: 0 }, {
      scale: 1,
      zeroPoint: Infinity,
    }]
  ) {
    assert.throws(() => toImageTensor(px, q), RangeError, JSON.stringify(q));
  }
});
