import assert from "node:assert/strict";
import {
  augmentSource,
  bandLimit,
  type Codec,
  codecRoundTrip,
  drawSourceAugmentation,
  mixPartner,
  timeStretch,
} from "../../../scripts/embed/augment_source.ts";
import { polyphonyPartner } from "../../../scripts/embed/extract.ts";
import { createRandom } from "../../../scripts/shared/random.ts";

const SR = 16000;

function sine(hz: number, n: number, amp = 0.3): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / SR));
}

function rms(x: ArrayLike<number>, from = 0, to = x.length): number {
  let p = 0;
  for (let i = from; i < to; i++) p += x[i]! ** 2;
  return Math.sqrt(p / (to - from));
}

/** Frequency from zero crossings (good enough for a clean sine). */
function frequency(x: ArrayLike<number>, from: number, to: number): number {
  let crossings = 0;
  for (let i = from + 1; i < to; i++) if (x[i - 1]! < 0 && x[i]! >= 0) crossings++;
  return (crossings * SR) / (to - from);
}

/** Amplitude of the `hz` component (projection on sine and cosine) over [from, to). */
function amplitudeAt(x: ArrayLike<number>, hz: number, from: number, to: number): number {
  let s = 0, c = 0;
  for (let i = from; i < to; i++) {
    s += x[i]! * Math.sin((2 * Math.PI * hz * i) / SR);
    c += x[i]! * Math.cos((2 * Math.PI * hz * i) / SR);
  }
  return (2 * Math.hypot(s, c)) / (to - from);
}

Deno.test("codecRoundTrip() keeps the length, the level and the alignment through every codec", async () => {
  const x = sine(440, SR);
  for (const codec of ["mp3", "opus", "aac", "vorbis"] as Codec[]) {
    for (const kbps of [24, 64]) {
      const y = await codecRoundTrip(x, codec, kbps);
      assert.equal(y.length, x.length, `${codec} ${kbps}`);
      const level = 20 * Math.log10(rms(y, 2000, 14000) / rms(x, 2000, 14000));
      assert.ok(Math.abs(level) < 1, `${codec} ${kbps}k: level ${level.toFixed(2)} dB`);
      // Aligned: the decoded sine is in phase with the input (correlation near 1).
      let xy = 0, xx = 0, yy = 0;
      for (let i = 2000; i < 14000; i++) xy += x[i]! * y[i]!, xx += x[i]! ** 2, yy += y[i]! ** 2;
      assert.ok(xy / Math.sqrt(xx * yy) > 0.95, `${codec} ${kbps}k: correlation ${xy / Math.sqrt(xx * yy)}`);
    }
  }
});

Deno.test("codecRoundTrip() at a low bitrate loses the top of the spectrum", async () => {
  // Broadband noise: 24 kbit/s MP3 keeps little above 5 kHz.
  const rand = createRandom("noise").next;
  const x = Float32Array.from({ length: SR }, () => (rand() - 0.5) * 0.4);
  const y = await codecRoundTrip(x, "mp3", 24);
  const high = (v: Float32Array) => rms(bandLimit(v, 6000, null));
  assert.ok(high(y) < 0.5 * high(x), `above 6 kHz: ${high(y)} vs ${high(x)}`);
});

Deno.test("bandLimit() removes energy beyond its corners and keeps the pass band", () => {
  const cases: { hp: number | null; lp: number | null; pass: number; stop: number[] }[] = [
    { hp: null, lp: 3000, pass: 1000, stop: [6000, 7000] },
    { hp: 300, lp: null, pass: 1000, stop: [60, 100] },
    { hp: 200, lp: 4000, pass: 1000, stop: [50, 7500] },
  ];
  for (const { hp, lp, pass, stop } of cases) {
    const y = bandLimit(sine(pass, SR), hp, lp);
    assert.ok(Math.abs(amplitudeAt(y, pass, 4000, 16000) / 0.3 - 1) < 0.1, `${hp}-${lp}: pass band ${pass} Hz`);
    for (const hz of stop) {
      const z = bandLimit(sine(hz, SR), hp, lp);
      const db = 20 * Math.log10(amplitudeAt(z, hz, 4000, 16000) / 0.3);
      assert.ok(db < -20, `${hp}-${lp}: ${hz} Hz only ${db.toFixed(1)} dB down`);
    }
  }
});

Deno.test("timeStretch() changes the duration, not the pitch", async () => {
  for (const tempo of [0.8, 1.25]) {
    const x = sine(440, SR);
    const y = await timeStretch(x, tempo);
    assert.ok(Math.abs(y.length - SR / tempo) < 0.02 * SR, `tempo ${tempo}: ${y.length} samples`);
    const hz = frequency(y, 1000, y.length - 1000);
    assert.ok(Math.abs(hz - 440) < 440 * 0.02, `tempo ${tempo}: ${hz} Hz`);
  }
  await assert.rejects(() => timeStretch(sine(440, 100), 3), RangeError);
});

Deno.test("mixPartner() mixes two notes at the item's level, the partner offset", () => {
  const x = sine(440, SR), partner = sine(660, SR, 0.05);
  const y = mixPartner(x, partner, 0, 0.1);
  assert.equal(y.length, x.length);
  assert.ok(Math.abs(rms(y) / rms(x) - 1) < 0.01, `level ${rms(y) / rms(x)}`);
  // Before the offset only the item sounds; after it both, the partner level-matched (same amplitude).
  assert.ok(amplitudeAt(y, 660, 0, 1600) < 0.02);
  const a440 = amplitudeAt(y, 440, 4000, 16000), a660 = amplitudeAt(y, 660, 4000, 16000);
  assert.ok(Math.abs(a660 / a440 - 1) < 0.05, `partner / item ${a660 / a440}`);
});

Deno.test("augmentSource() is deterministic per key, draws every kind, and stays in [-1, 1]", async () => {
  const x = sine(440, SR), partner = sine(550, SR);
  const a = await augmentSource(x, createRandom("item#101#1234").next, partner);
  const b = await augmentSource(x, createRandom("item#101#1234").next, partner);
  assert.deepEqual(a.augmentation, b.augmentation);
  assert.deepEqual(a.samples, b.samples);
  const seen = { polyphony: 0, stretch: 0, band: 0, codec: 0 };
  for (let k = 0; k < 40; k++) {
    const aug = drawSourceAugmentation(createRandom(`k${k}`).next, true);
    for (const kind of Object.keys(seen) as (keyof typeof seen)[]) if (aug[kind]) seen[kind]++;
    assert.ok(aug.polyphony || aug.stretch || aug.band || aug.codec, `k${k}: a view that does nothing`);
    // Without a partner the same key draws the same rest.
    const alone = drawSourceAugmentation(createRandom(`k${k}`).next, false);
    assert.equal(alone.polyphony, null);
    assert.deepEqual(alone.stretch, aug.stretch);
  }
  for (const [kind, n] of Object.entries(seen)) assert.ok(n >= 8 && n <= 32, `${kind} drawn ${n} of 40`);
  for (const key of ["k1", "k2", "k3", "k4"]) {
    const { samples, augmentation } = await augmentSource(x, createRandom(key).next, partner);
    assert.ok(samples.every((v) => Number.isFinite(v) && v >= -1 && v <= 1), key);
    if (!augmentation.stretch) assert.equal(samples.length, x.length, key);
  }
});

Deno.test("polyphonyPartner() picks another training item of the same label and source, reproducibly", () => {
  const item = (id: string, label: string, source: string, split = "translation-train") => ({
    id,
    file: `${id}.wav`,
    split,
    modality: "audio" as const,
    label,
    domain: "rendered",
    group: "g",
    source,
  });
  const me = item("a1", "violin", "bank1");
  const items = [
    me,
    item("a2", "violin", "bank1"),
    item("a3", "violin", "bank1", "classify-train"),
    item("b1", "cello", "bank1"),
    item("c1", "violin", "bank2"),
    item("d1", "violin", "bank1", "classify-test"),
  ];
  const picked = new Set<string>();
  for (let k = 0; k < 20; k++) {
    const p = polyphonyPartner(me, items, `a1#101#${k}`)!;
    assert.ok(["a2", "a3"].includes(p.id), p.id);
    assert.equal(p.id, polyphonyPartner(me, [...items].reverse(), `a1#101#${k}`)!.id);
    picked.add(p.id);
  }
  assert.equal(picked.size, 2);
  assert.equal(polyphonyPartner(item("z", "organ", "x"), items, "z#101#1"), undefined);
});
