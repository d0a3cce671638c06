import assert from "node:assert/strict";
import { VectorIndex } from "../../../lib/collections/vector_index.ts";
import { decodeFloat16, decodeInt8, encodeFloat16, encodeInt8 } from "../../../lib/collections/vector_codec.ts";

function random(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32 - 0.5;
  };
}

Deno.test("VectorIndex.search() matches a brute-force ranking, with and without a modality filter", () => {
  const rand = random(7);
  const index = new VectorIndex(16, 2);
  const rows = Array.from({ length: 300 }, (_, i) => ({
    id: `r${i}`,
    v: Array.from({ length: 16 }, rand),
    modality: (i % 3 ? "image" : "audio") as "audio" | "image",
  }));
  for (const r of rows) index.upsert(r.id, r.v, { modality: r.modality, label: null, model: "m" });
  for (const r of rows.slice(0, 50)) index.remove(r.id);
  const cos = (a: number[], b: number[]) => {
    let d = 0, na = 0, nb = 0;
    a.forEach((x, i) => (d += x * b[i]!, na += x * x, nb += b[i]! * b[i]!));
    return d / Math.sqrt(na * nb);
  };
  const q = Array.from({ length: 16 }, rand);
  for (const modality of [undefined, "audio", "image"] as const) {
    const expected = rows.slice(50).filter((r) => !modality || r.modality === modality)
      .map((r) => ({ id: r.id, score: cos(r.v, q) })).sort((a, b) => b.score - a.score).slice(0, 7);
    const got = index.search(q, 7, modality);
    assert.deepEqual(got.map((h) => h.id), expected.map((h) => h.id));
    got.forEach((h, i) => assert.ok(Math.abs(h.score - expected[i]!.score) < 1e-5));
  }
  assert.equal(index.size, 250);
  assert.throws(() => index.upsert("x", [1, 2], { modality: "audio", label: null, model: "m" }), /2 values/);
});

Deno.test("encodeInt8() and encodeFloat16() round trip within their precision; NaN is refused", () => {
  const v = [0.5, -0.25, 0.125, -1, 0, 0.001];
  decodeInt8(encodeInt8(v)).forEach((x, i) => assert.ok(Math.abs(x - v[i]!) <= 1 / 254 + 1e-7));
  decodeFloat16(encodeFloat16(v)).forEach((x, i) => assert.ok(Math.abs(x - v[i]!) <= 1e-3 * Math.abs(v[i]!) + 1e-7));
  assert.deepEqual(Array.from(decodeInt8(encodeInt8([0, 0]))), [0, 0]);
  assert.throws(() => encodeInt8([1, NaN]), /value 1 is NaN/);
});
