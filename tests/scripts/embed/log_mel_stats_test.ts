import assert from "node:assert/strict";
import { YAMNET_LOG_MEL } from "../../lib/features/_fixtures.ts";
import { logMelStats, logMelStatsDim } from "../../../scripts/embed/log_mel_stats.ts";
import { logMel } from "../../../lib/features/log_mel.ts";

Deno.test("logMelStats() of silence: means ln(0.001), deviations 0", () => {
  const s = logMelStats(new Float32Array(16000), YAMNET_LOG_MEL);
  assert.equal(s.length, logMelStatsDim(YAMNET_LOG_MEL));
  assert.equal(logMelStatsDim(YAMNET_LOG_MEL), 128);
  for (let b = 0; b < 64; b++) {
    assert.ok(Math.abs(s[b]! - Math.log(0.001)) < 1e-5, `mean ${b}`);
    assert.equal(s[64 + b], 0);
  }
});

Deno.test("logMelStats() equals the per-band mean and std of logMel()", () => {
  // A tone that switches on half-way: the bands near 1 kHz vary over time.
  const x = new Float32Array(16000);
  for (let i = 8000; i < x.length; i++) x[i] = 0.5 * Math.sin((2 * Math.PI * 1000 * i) / 16000);
  const s = logMelStats(x, YAMNET_LOG_MEL);
  const { data, frames, bands } = logMel(x, YAMNET_LOG_MEL);
  for (const b of [0, 20, 40, 63]) {
    const col = Array.from({ length: frames }, (_, f) => data[f * bands + b]!);
    const mean = col.reduce((a, v) => a + v, 0) / frames;
    const std = Math.sqrt(col.reduce((a, v) => a + (v - mean) ** 2, 0) / frames);
    assert.ok(Math.abs(s[b]! - mean) < 1e-4, `mean ${b}`);
    assert.ok(Math.abs(s[64 + b]! - std) < 1e-4, `std ${b}`);
  }
  const loudest = Array.from(s.subarray(0, 64)).indexOf(Math.max(...s.subarray(0, 64)));
  // mel(1 kHz) = 1000 lies (1000 - mel(125 Hz)) / (mel(7.5 kHz) - mel(125 Hz)) * 65 = 20 band steps up.
  assert.ok(loudest >= 18 && loudest <= 21, `1 kHz lands near band 19 (band ${loudest})`);
});

Deno.test("logMelStats() pads a clip shorter than one STFT window", () => {
  const s = logMelStats(new Float32Array(100).fill(0.1), YAMNET_LOG_MEL);
  assert.equal(s.length, 128);
  assert.ok(s.every(Number.isFinite));
});
