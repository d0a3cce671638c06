import assert from "node:assert/strict";
import {
  audioSignal,
  clickRatio,
  mainsHumRatio,
  pixelStd,
  signalLevelDbfs,
} from "../../../lib/classify/presence_signal.ts";

const RATE = 16000;

function pixels(value: (i: number) => number): Uint8Array {
  return Uint8Array.from({ length: 224 * 224 * 3 }, (_, i) => value(i));
}

/** Uniform white noise in [-amplitude, amplitude) (xorshift32, seeded). */
function white(seconds: number, amplitude = 0.5, seed = 2463534242): Float32Array {
  let state = seed;
  return Float32Array.from({ length: Math.round(seconds * RATE) }, () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return amplitude * (2 * (state >>> 0) / 2 ** 32 - 1);
  });
}

/** Events at `times` (s) over `floor`, each `shape(k)` at k samples after its onset. */
function events(seconds: number, times: number[], shape: (k: number) => number, floor = 0): Float32Array {
  const out = white(seconds, floor);
  for (const t of times) {
    const at = Math.round(t * RATE);
    for (let k = 0; at + k < out.length && k < RATE; k++) out[at + k] = out[at + k]! + shape(k);
  }
  return out;
}

Deno.test("signalLevelDbfs() measures the loudest 0.1 s block", () => {
  assert.equal(signalLevelDbfs(new Float32Array(RATE)), -120);
  assert.equal(signalLevelDbfs(new Float32Array(0)), -120);
  const sine = Float32Array.from({ length: RATE }, (_, i) => Math.sin(2 * Math.PI * 440 * i / RATE));
  assert.ok(Math.abs(signalLevelDbfs(sine) - -3.01) < 0.05, `${signalLevelDbfs(sine)}`);
  // A loud 0.1 s burst in 2 s of silence is as loud as the burst.
  const burst = new Float32Array(2 * RATE);
  burst.set(sine.subarray(0, RATE / 10), RATE);
  assert.ok(Math.abs(signalLevelDbfs(burst) - -3.01) < 0.05);
});

Deno.test("mainsHumRatio() is near 1 for mains hum and buzz, not for noise or a tempered note", () => {
  const tone = (f0: number, harmonics: number) =>
    Float32Array.from({ length: 3 * RATE }, (_, i) => {
      let v = 0;
      for (let h = 1; h <= harmonics; h++) v += Math.sin(2 * Math.PI * f0 * h * i / RATE + h) / h;
      return v;
    });
  assert.ok(mainsHumRatio(tone(50, 5)) > 0.99, `${mainsHumRatio(tone(50, 5))}`);
  assert.ok(mainsHumRatio(tone(60, 20)) > 0.95); // 12 of 20 harmonics: 98 % of the energy
  let state = 2463534242;
  const white = Float32Array.from({ length: 3 * RATE }, () => {
    // xorshift32: white, unlike the short-period helper above.
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32 - 0.5;
  });
  assert.ok(mainsHumRatio(white) < 0.01, `${mainsHumRatio(white)}`);
  // A4, G2 (98.0 Hz, 2 Hz below the 50 Hz comb's second harmonic) and B1 (61.7 Hz) are off the comb.
  for (const f0 of [440, 98, 61.74]) {
    assert.ok(mainsHumRatio(tone(f0, 8)) < 0.1, `${f0} Hz: ${mainsHumRatio(tone(f0, 8))}`);
  }
  assert.equal(mainsHumRatio(new Float32Array(0)), 0);
  assert.equal(mainsHumRatio(new Float32Array(RATE)), 0);
});

Deno.test("pixelStd() is 0 for a plain image and large for noise", () => {
  assert.equal(pixelStd(pixels(() => 255)), 0);
  assert.ok(pixelStd(pixels((i) => (i * 7919) % 256)) > 60);
});

Deno.test("clickRatio() is near 1 for clicks and 0 for sounds that ring", async (t) => {
  const every = (perSecond: number, seconds: number) =>
    Array.from({ length: seconds * perSecond }, (_, i) => (i + 0.5) / perSecond);
  const noise = white(3, 1, 7);
  const cases = [
    // Sub-millisecond clicks, alone or in trains, over a -60 dB floor: all their energy is isolated.
    { name: "one tick", x: events(1, [0.5], (k) => (k === 0 ? 1 : 0)), min: 0.99 },
    {
      name: "20 clicks/s, 0.4 ms decay",
      x: events(3, every(20, 3), (k) => Math.exp(-k / 6) * (k % 2 ? -1 : 1), 1e-3),
      min: 0.9,
    },
    {
      name: "3 noise clicks/s",
      x: events(3, every(3, 3), (k) => k < 120 ? Math.exp(-k / 5) * noise[k]! : 0, 1e-3),
      min: 0.9,
    },
    // What rings or repeats within 15 ms: a plucked string, a drum hit, a pulse train (a low brass note), noise.
    {
      name: "plucked 196 Hz",
      x: events(2, [0.1], (k) => Math.exp(-k / 4000) * Math.sin(2 * Math.PI * 196 * k / RATE)),
      max: 0,
    },
    { name: "drum hit, 30 ms decay", x: events(2, [0.1, 0.6], (k) => Math.exp(-k / 480) * noise[k]!), max: 0.01 },
    { name: "82 Hz pulse train", x: events(2, every(82.4, 2), (k) => (k < 4 ? 1 : 0)), max: 0 },
    { name: "34 Hz pulse train (a 16' reed)", x: events(2, every(34, 2), (k) => (k < 4 ? 1 : 0)), max: 0 },
    { name: "white noise", x: white(2), max: 0 },
  ];
  for (const c of cases) {
    await t.step(c.name, () => {
      const r = clickRatio(c.x);
      if (c.min !== undefined) assert.ok(r >= c.min, `${r}`);
      if (c.max !== undefined) assert.ok(r <= c.max, `${r}`);
    });
  }
  assert.equal(clickRatio(new Float32Array(RATE)), 0);
  assert.equal(clickRatio(new Float32Array(20)), 0);
});

Deno.test("audioSignal() measures level, hum and clicks together", () => {
  const x = events(1, [0.25, 0.75], (k) => (k === 0 ? 0.5 : 0));
  const s = audioSignal(x);
  assert.deepEqual(s, { levelDbfs: signalLevelDbfs(x), mainsRatio: mainsHumRatio(x), clickRatio: clickRatio(x) });
  assert.ok(s.clickRatio > 0.99);
});
