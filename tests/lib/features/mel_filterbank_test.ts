import assert from "node:assert/strict";
import { hertzToMel, melFilterbank } from "../../../lib/features/mel_filterbank.ts";
import { readTflite } from "../../../lib/encoders/import/tflite_model.ts";
import { weightsPath } from "./_fixtures.ts";

const YAMNET = { melBands: 64, spectrogramBins: 257, sampleRate: 16000, lowerHz: 125, upperHz: 7500 };

Deno.test("hertzToMel() uses the HTK scale", () => {
  assert.equal(hertzToMel(0), 0);
  assert.ok(Math.abs(hertzToMel(700) - 1127 * Math.LN2) < 1e-9);
});

Deno.test("melFilterbank() zeroes DC and out-of-range bins and peaks below 1", () => {
  const w = melFilterbank(YAMNET);
  assert.equal(w.length, 257 * 64);
  for (let b = 0; b < 64; b++) {
    assert.equal(w[b], 0, "DC row"); // bin 0
    assert.equal(w[4 * 64 + b], 0, "bin 4 = 125 Hz, the lower edge");
    assert.equal(w[256 * 64 + b], 0, "Nyquist bin above 7500 Hz");
  }
  assert.ok(Math.max(...w) < 1 && Math.min(...w) === 0);
});

Deno.test("melFilterbank() quantises to exactly yamnet.tflite's int8 mel matrix", () => {
  // The waveform graph stores TF's linear_to_mel_weight_matrix transposed ([64, 257]) as
  // symmetric int8 with one scale (max / 127); ours must round to the same integers.
  const model = readTflite(Deno.readFileSync(weightsPath("yamnet.tflite")));
  const tensor = model.tensors.find((t) =>
    t.type === "int8" && t.shape.join() === "64,257" && t.name.includes("MatMul_2")
  );
  assert.ok(tensor?.data && tensor.quantization, "mel matrix tensor in yamnet.tflite");
  const scale = tensor.quantization.scale[0]!;
  const stored = new Int8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  const w = melFilterbank(YAMNET);
  let mismatches = 0;
  for (let band = 0; band < 64; band++) {
    for (let bin = 0; bin < 257; bin++) {
      if (Math.round(w[bin * 64 + band]! / scale) !== stored[band * 257 + bin]) mismatches++;
    }
  }
  assert.equal(mismatches, 0);
  assert.ok(Math.abs(Math.max(...w) / 127 - scale) < 1e-7, "same maximum weight");
});

Deno.test("melFilterbank() rejects impossible layouts", () => {
  const cases = [
    { ...YAMNET, melBands: 0 },
    { ...YAMNET, spectrogramBins: 1 },
    { ...YAMNET, lowerHz: 8000 },
    { ...YAMNET, upperHz: 9000 },
  ];
  for (const options of cases) assert.throws(() => melFilterbank(options), RangeError);
});
