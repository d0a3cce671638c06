import assert from "node:assert/strict";
import { YAMNET_LOG_MEL } from "./_fixtures.ts";
import { padWaveform, patchWindowCount } from "../../../lib/features/pad_waveform.ts";
import { frameCount } from "../../../lib/features/log_mel.ts";

Deno.test("padWaveform() pads to one patch plus whole hops, like YAMNet", () => {
  const cases: Array<[number, number, number]> = [
    [0, 15600, 1],
    [1, 15600, 1],
    [15600, 15600, 1],
    [15601, 23280, 2],
    [23280, 23280, 2],
    [16000 * 10, 15600 + 7680 * 19, 20],
  ];
  for (const [length, padded, windows] of cases) {
    const out = padWaveform(new Float32Array(length).fill(0.5));
    assert.equal(out.length, padded, `${length} samples`);
    assert.equal(patchWindowCount(out.length), windows);
    // 96 frames for the first patch and 48 per further one: patches and waveform windows agree.
    assert.equal(frameCount(out.length, YAMNET_LOG_MEL), 96 + 48 * (windows - 1));
    assert.equal(out[length - 1] ?? 0.5, 0.5);
    assert.equal(out[length] ?? 0, 0);
  }
});

Deno.test("padWaveform() returns the input when no padding is needed", () => {
  const samples = new Float32Array(15600);
  assert.equal(padWaveform(samples), samples);
});
