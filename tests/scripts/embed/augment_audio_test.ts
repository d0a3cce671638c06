import assert from "node:assert/strict";
import { augmentAudio, resampleBy } from "../../../scripts/embed/augment_audio.ts";
import { createRandom } from "../../../scripts/shared/random.ts";

function sine(hz: number, n: number, amp = 0.5): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / 16000));
}

/** Frequency from zero crossings (good enough for a clean sine). */
function frequency(x: ArrayLike<number>, from: number, to: number): number {
  let crossings = 0;
  for (let i = from + 1; i < to; i++) if (x[i - 1]! < 0 && x[i]! >= 0) crossings++;
  return (crossings * 16000) / (to - from);
}

Deno.test("augmentAudio() is deterministic per key, keeps the length and stays in [-1, 1]", () => {
  const x = sine(440, 16000);
  const a = augmentAudio(x, createRandom("item#1#1234").next);
  const b = augmentAudio(x, createRandom("item#1#1234").next);
  const c = augmentAudio(x, createRandom("item#2#1234").next);
  assert.deepEqual(a.samples, b.samples);
  assert.deepEqual(a.augmentation, b.augmentation);
  assert.notDeepEqual(a.samples, c.samples);
  for (const key of ["k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8"]) {
    const { samples } = augmentAudio(x, createRandom(key).next);
    assert.equal(samples.length, x.length);
    assert.ok(samples.every((v) => Number.isFinite(v) && v >= -1 && v <= 1), key);
  }
});

Deno.test("resampleBy() shifts a sine's pitch by the ratio", () => {
  const cases: [number, number][] = [[440, 2 ** (3 / 12)], [1000, 2 ** (-3 / 12)], [3000, 1.5]];
  for (const [hz, ratio] of cases) {
    const y = resampleBy(Float64Array.from(sine(hz, 32000)), ratio, 16000);
    const got = frequency(y, 1000, 15000);
    assert.ok(Math.abs(got - hz * ratio) < hz * ratio * 0.01, `${hz} Hz x ${ratio}: got ${got}`);
  }
});

Deno.test("resampleBy() suppresses content that would alias above the new Nyquist", () => {
  // 7 kHz read 1.5x faster would be 10.5 kHz, above 8 kHz: the low-pass must remove it.
  const y = resampleBy(Float64Array.from(sine(7000, 32000)), 1.5, 16000);
  let peak = 0;
  for (let i = 1000; i < 15000; i++) peak = Math.max(peak, Math.abs(y[i]!));
  assert.ok(peak < 0.05, `residual peak ${peak}`);
});
