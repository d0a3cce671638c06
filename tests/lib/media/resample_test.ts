import assert from "node:assert/strict";
import { downmix, resample } from "../../../lib/media/resample.ts";
import { LibSampleRate } from "./_references.ts";
import { rms, sine, zeroCrossingFrequency } from "./_audio.ts";

/** Level of frequency `f` in `x` relative to a full-scale sine, in dB (single-bin DFT over x[from..to)). */
function levelDb(x: Float32Array, rate: number, f: number, from: number, to: number): number {
  let re = 0, im = 0;
  for (let i = from; i < to; i++) {
    // Hann window against leakage from other components.
    const w = 0.5 - 0.5 * Math.cos(2 * Math.PI * (i - from) / (to - from));
    re += w * x[i]! * Math.cos(2 * Math.PI * f * i / rate);
    im -= w * x[i]! * Math.sin(2 * Math.PI * f * i / rate);
  }
  const amplitude = 2 * Math.hypot(re, im) / ((to - from) * 0.5);
  return 20 * Math.log10(amplitude + 1e-30);
}

Deno.test("downmix() averages channels and passes mono through", () => {
  const left = new Float32Array([1, 0.5, -1]);
  const right = new Float32Array([0, 0.5, 1]);
  assert.deepEqual(Array.from(downmix([left, right])), [0.5, 0.5, 0]);
  assert.equal(downmix([left]), left);
  assert.throws(() => downmix([]), RangeError);
  assert.throws(() => downmix([left, new Float32Array(2)]), /lengths differ/);
});

// 22051 Hz needs 16000 filter phases and exercises the rounded-phase path.
for (const rate of [8000, 11025, 22050, 22051, 44100, 48000, 96000, 192000]) {
  Deno.test(`resample() keeps a 1 kHz tone at 1 kHz and full level from ${rate} Hz to 16 kHz`, () => {
    const output = resample(sine(1000, rate, 2, 0.5), rate, 16000);
    assert.equal(output.length, 32000);
    // Skip the edges, where the filter reaches past the signal.
    const f = zeroCrossingFrequency(output, 16000, 800, 31200);
    assert.ok(Math.abs(f - 1000) < 0.01, `measured ${f} Hz`);
    const level = rms(output, 800, 31200);
    assert.ok(Math.abs(level - 0.5 / Math.SQRT2) < 0.0005, `rms ${level}`);
  });
}

Deno.test("resample() is flat to 7.5 kHz and rejects what would alias below 7.5 kHz", () => {
  for (const rate of [44100, 48000, 22051]) {
    const gain = (f: number) => {
      const out = resample(sine(f, rate, 1, 1), rate, 16000);
      return levelDb(out, 16000, f > 8000 ? 16000 - f : f, 1000, 15000);
    };
    for (const f of [100, 1000, 4000, 7000, 7500]) {
      assert.ok(Math.abs(gain(f)) < 0.01, `${rate} Hz input, ${f} Hz: ${gain(f).toFixed(3)} dB`);
    }
    // Above the new Nyquist: 10 kHz would alias to 6 kHz, 8.6 kHz to 7.4 kHz.
    for (const f of [8600, 10000, 15000]) {
      assert.ok(gain(f) < -80, `${rate} Hz input, ${f} Hz: ${gain(f).toFixed(1)} dB`);
    }
  }
});

Deno.test("resample() rejects the images of an 8 kHz input when upsampling", () => {
  // A 3.5 kHz tone at 8 kHz has an image at 8 - 3.5 = 4.5 kHz that a bad interpolator keeps.
  const out = resample(sine(3500, 8000, 1, 1), 8000, 16000);
  assert.ok(Math.abs(levelDb(out, 16000, 3500, 1000, 15000)) < 0.01);
  assert.ok(levelDb(out, 16000, 4500, 1000, 15000) < -80);
});

Deno.test("resample() output is time-aligned with its input", () => {
  // A click at 0.5 s must stay at 0.5 s (no filter delay left in the output).
  for (const rate of [48000, 44100, 8000]) {
    const input = new Float32Array(rate);
    input[rate / 2] = 1;
    const output = resample(input, rate, 16000);
    let peak = 0;
    for (let i = 1; i < output.length; i++) if (Math.abs(output[i]!) > Math.abs(output[peak]!)) peak = i;
    assert.equal(peak, 8000, `${rate} Hz`);
  }
});

Deno.test("resample() agrees with libsamplerate's best converter below 7 kHz", async () => {
  // Independent implementation as a reference: a mix of tones inside the passband of both.
  const rate = 44100;
  const x = new Float32Array(rate * 2);
  for (const [f, a] of [[220, 0.3], [1234, 0.2], [3100, 0.15], [6800, 0.1]] as const) {
    for (let i = 0; i < x.length; i++) x[i]! += a * Math.sin(2 * Math.PI * f * i / rate);
  }
  const ours = resample(x, rate, 16000);
  const { create } = LibSampleRate as unknown as {
    create(
      c: number,
      a: number,
      b: number,
      o: object,
    ): Promise<{ simple(x: Float32Array): Float32Array; destroy(): void }>;
  };
  const src = await create(1, rate, 16000, { converterType: 0 });
  const theirs = src.simple(x);
  src.destroy();
  let diff = 0;
  for (let i = 2000; i < 30000; i++) diff += (ours[i]! - theirs[i]!) ** 2;
  const relativeDb = 20 * Math.log10(Math.sqrt(diff / 28000) / rms(ours, 2000, 30000));
  assert.ok(relativeDb < -60, `difference ${relativeDb.toFixed(1)} dB`);
});

Deno.test("resample() copies when rates match, and validates rates", () => {
  const input = sine(440, 16000, 0.1);
  const same = resample(input, 16000, 16000);
  assert.deepEqual(same, input);
  assert.notEqual(same, input);
  assert.equal(resample(new Float32Array(0), 44100).length, 0);
  assert.equal(resample(new Float32Array(3), 44100).length, 1);
  for (const bad of [0, 999, 44100.5, NaN, 1_000_000]) assert.throws(() => resample(input, bad), RangeError, `${bad}`);
});
