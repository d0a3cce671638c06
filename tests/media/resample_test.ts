import assert from "node:assert/strict";
import { downmix, resample } from "../../lib/media/resample.ts";
import { rms, sine, zeroCrossingFrequency } from "./_audio.ts";

Deno.test("downmix() averages channels and passes mono through", () => {
  const left = new Float32Array([1, 0.5, -1]);
  const right = new Float32Array([0, 0.5, 1]);
  assert.deepEqual(Array.from(downmix([left, right])), [0.5, 0.5, 0]);
  assert.equal(downmix([left]), left);
  assert.throws(() => downmix([]), RangeError);
  assert.throws(() => downmix([left, new Float32Array(2)]), /lengths differ/);
});

for (const rate of [8000, 22050, 44100, 48000, 96000]) {
  Deno.test(`resample() keeps a 1 kHz tone at 1 kHz from ${rate} Hz to 16 kHz`, async () => {
    const input = sine(1000, rate, 2, 0.5);
    const output = await resample(input, rate, 16000);
    assert.equal(output.length, 32000);
    // Skip the edges, where the filter sees the signal's start and end.
    const f = zeroCrossingFrequency(output, 16000, 800, 31200);
    assert.ok(Math.abs(f - 1000) < 0.5, `measured ${f} Hz`);
    const level = rms(output, 800, 31200);
    assert.ok(Math.abs(level - 0.5 / Math.SQRT2) < 0.005, `rms ${level}`);
  });
}

Deno.test("resample() output is time-aligned with its input", async () => {
  // A click at 0.5 s must stay at 0.5 s (no filter delay left in the output).
  const input = new Float32Array(48000);
  input[24000] = 1;
  const output = await resample(input, 48000, 16000);
  let peak = 0;
  for (let i = 1; i < output.length; i++) if (Math.abs(output[i]!) > Math.abs(output[peak]!)) peak = i;
  assert.equal(peak, 8000);
});

for (const [quality, maxGain] of [["best", 0.001], ["medium", 0.001], ["fastest", 0.01]] as const) {
  Deno.test(`resample() "${quality}" rejects a 10 kHz tone above the 8 kHz Nyquist`, async () => {
    const output = await resample(sine(10_000, 48000, 1, 0.5), 48000, 16000, { quality });
    const level = rms(output, 800, 15200) / (0.5 / Math.SQRT2);
    assert.ok(level < maxGain, `relative rms ${level}`);
  });
}

Deno.test('resample() "best" passes 7.4 kHz, the top of the YAMNet mel range, at full level', async () => {
  const output = await resample(sine(7400, 48000, 1, 0.5), 48000, 16000);
  const level = rms(output, 800, 15200) / (0.5 / Math.SQRT2);
  assert.ok(level > 0.95, `relative rms ${level}`);
});

Deno.test("resample() handles inputs longer than libsamplerate-js's 1M-sample buffer without seams", async () => {
  // 30 s at 48 kHz is 1.44M samples: libsamplerate-js splits it into chunks internally.
  const output = await resample(sine(1000, 48000, 30, 0.5), 48000, 16000);
  assert.equal(output.length, 480000);
  let maxStep = 0;
  for (let i = 800; i < output.length - 800; i++) maxStep = Math.max(maxStep, Math.abs(output[i]! - output[i - 1]!));
  // A 1 kHz sine of amplitude 0.5 at 16 kHz moves at most 0.5 * 2 * sin(pi / 16) = 0.195 per sample.
  assert.ok(maxStep < 0.2, `largest step ${maxStep}`);
  assert.ok(Math.abs(zeroCrossingFrequency(output, 16000, 800, output.length - 800) - 1000) < 0.1);
});

Deno.test("resample() copies when rates match, and validates rates", async () => {
  const input = sine(440, 16000, 0.1);
  const same = await resample(input, 16000, 16000);
  assert.deepEqual(same, input);
  assert.notEqual(same, input);
  assert.equal((await resample(new Float32Array(0), 44100)).length, 0);
  for (const bad of [0, -1, NaN, 384000]) await assert.rejects(resample(input, bad), RangeError);
});
