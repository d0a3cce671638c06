import assert from "node:assert/strict";
import { frameCount, logMel } from "../../../lib/features/log_mel.ts";
import { melFilterbank } from "../../../lib/features/mel_filterbank.ts";
import { readTflite } from "../../../lib/encoders/import/tflite_model.ts";
import { fixtureAudio, fixtureSpectra, weightsPath, YAMNET_LOG_MEL } from "./_fixtures.ts";

Deno.test("frameCount() counts whole windows only (pad_end=False)", () => {
  const cases: Array<[number, number]> = [[0, 0], [399, 0], [400, 1], [559, 1], [560, 2], [15600, 96], [16000, 98]];
  for (const [samples, frames] of cases) {
    assert.equal(frameCount(samples, YAMNET_LOG_MEL), frames, `${samples} samples`);
  }
});

Deno.test("logMel() returns [frames, 64] and ln(0.001) for silence", () => {
  const out = logMel(new Float32Array(15600), YAMNET_LOG_MEL);
  assert.equal(out.frames, 96);
  assert.equal(out.bands, 64);
  assert.equal(out.data.length, 96 * 64);
  for (const v of out.data) assert.equal(v, Math.fround(Math.log(0.001)));
  assert.equal(logMel(new Float32Array(100), YAMNET_LOG_MEL).frames, 0);
});

// Independent float64 reference: direct DFT sums (no FFT), YAMNet's periodic Hann, the same
// filterbank. Checks windowing, zero padding, magnitude (not power) and the log.
function referenceFrame(samples: Float32Array, frame: number): Float64Array {
  const { windowLength, hopLength, fftLength, melBands } = YAMNET_LOG_MEL;
  const mel = melFilterbank({
    melBands,
    spectrogramBins: fftLength / 2 + 1,
    sampleRate: 16000,
    lowerHz: 125,
    upperHz: 7500,
  });
  const out = new Float64Array(melBands);
  for (let k = 0; k <= fftLength / 2; k++) {
    let re = 0;
    let im = 0;
    for (let n = 0; n < windowLength; n++) {
      const x = samples[frame * hopLength + n]! * (0.5 - 0.5 * Math.cos(2 * Math.PI * n / windowLength));
      re += x * Math.cos(2 * Math.PI * k * n / fftLength);
      im -= x * Math.sin(2 * Math.PI * k * n / fftLength);
    }
    const magnitude = Math.hypot(re, im);
    for (let b = 0; b < melBands; b++) out[b] = out[b]! + magnitude * mel[k * melBands + b]!;
  }
  return out.map((v) => Math.log(v + 0.001));
}

Deno.test("logMel() matches a direct-DFT float64 reference within 1e-5", () => {
  const audio = fixtureAudio();
  const out = logMel(audio, YAMNET_LOG_MEL);
  let worst = 0;
  for (const frame of [0, 1, 47, 95]) {
    const ref = referenceFrame(audio, frame);
    for (let b = 0; b < 64; b++) worst = Math.max(worst, Math.abs(out.data[frame * 64 + b]! - ref[b]!));
  }
  assert.ok(worst < 1e-5, `max abs error ${worst}`);
});

Deno.test("logMel() reproduces the coralmicro fixture patch up to its affine shift", () => {
  // yamnet_test_spectra.bin ~= 0.991 * logmel(yamnet_test_audio.bin) + 1.398 (weights/README.md).
  const x = logMel(fixtureAudio(), YAMNET_LOG_MEL).data;
  const y = fixtureSpectra();
  assert.equal(x.length, y.length);
  const n = x.length;
  let sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (let i = 0; i < n; i++) {
    sx += x[i]!;
    sy += y[i]!;
    sxx += x[i]! * x[i]!;
    sxy += x[i]! * y[i]!;
  }
  const slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  const intercept = (sy - slope * sx) / n;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (y[i]! - slope * x[i]! - intercept) ** 2;
  const rms = Math.sqrt(sse / n);
  assert.ok(Math.abs(slope - 0.991) < 0.005, `slope ${slope}`);
  assert.ok(Math.abs(intercept - 1.398) < 0.01, `intercept ${intercept}`);
  assert.ok(rms < 0.012, `rms ${rms}`);
});

Deno.test("logMel() uses the same periodic Hann window as yamnet.tflite", () => {
  const model = readTflite(Deno.readFileSync(weightsPath("yamnet.tflite")));
  const tensor = model.tensors.find((t) => t.type === "float32" && t.shape.join() === "1,400" && t.data);
  assert.ok(tensor?.data, "window constant in yamnet.tflite");
  const window = new Float32Array(tensor.data.slice().buffer);
  let worst = 0;
  for (let n = 0; n < 400; n++) {
    worst = Math.max(worst, Math.abs(window[n]! - (0.5 - 0.5 * Math.cos(2 * Math.PI * n / 400))));
  }
  assert.ok(worst < 1e-7, `max abs difference ${worst}`);
});
