import assert from "node:assert/strict";
import { toPatches } from "../../../lib/features/patches.ts";
import type { LogMel } from "../../../lib/features/log_mel.ts";

/** A spectrogram whose value encodes its position: frame * 100 + band. */
function ramp(frames: number, bands = 64): LogMel {
  const data = new Float32Array(frames * bands);
  for (let f = 0; f < frames; f++) for (let b = 0; b < bands; b++) data[f * bands + b] = f * 100 + b;
  return { data, frames, bands };
}

Deno.test("toPatches() yields 96-frame patches every 48 frames, at least one", () => {
  const cases: Array<[number, number]> = [[0, 1], [50, 1], [96, 1], [143, 1], [144, 2], [192, 3], [3000, 61]];
  for (const [frames, count] of cases) {
    const patches = toPatches(ramp(frames));
    assert.equal(patches.count, count, `${frames} frames`);
    assert.equal(patches.data.length, count * 96 * 64);
  }
});

Deno.test("toPatches() copies rows, adds the offset and pads short input", () => {
  const patches = toPatches(ramp(200), { offset: 1.5 });
  // patch 2, frame 10 = spectrogram frame 106
  assert.equal(patches.data[(2 * 96 + 10) * 64 + 7], 106 * 100 + 7 + 1.5);
  const short = toPatches(ramp(10), { offset: 1, padValue: -5 });
  assert.equal(short.data[9 * 64 + 3], 9 * 100 + 3 + 1);
  assert.equal(short.data[10 * 64], -4);
  assert.equal(short.data[96 * 64 - 1], -4);
  const silence = toPatches(ramp(0));
  assert.equal(silence.data[0], Math.fround(Math.log(0.001)));
});

Deno.test("toPatches() rejects inconsistent input", () => {
  const cases: Array<[LogMel, object]> = [
    [{ data: new Float32Array(10), frames: 1, bands: 64 }, {}],
    [ramp(100), { hop: 0 }],
    [ramp(100), { frames: 1.5 }],
  ];
  for (const [logMel, options] of cases) assert.throws(() => toPatches(logMel, options), RangeError);
});
