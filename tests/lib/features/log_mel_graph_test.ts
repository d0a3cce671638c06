import assert from "node:assert/strict";
import { join } from "node:path";
import { logMel } from "../../../lib/features/log_mel.ts";
import { padWaveform, patchWindowCount } from "../../../lib/features/pad_waveform.ts";
import { readTflite, type TfliteTensor } from "../../../lib/encoders/import/tflite_model.ts";
import { decodeAudio } from "../../../lib/media/decode_audio.ts";
import { CORPUS_DIR, encoder } from "../encoders/_encoders.ts";
import { fixtureAudio, weightsPath, YAMNET_LOG_MEL } from "./_fixtures.ts";

// yamnet.tflite computes log_mel with int8 weights (DFT and mel matrices, one scale each) in
// float arithmetic. logMel() computes YAMNet's exact float features, so the two differ by the
// weight quantisation: tiny on loud bins, large in quiet bins where the int8 DFT's leakage floor
// (about -42 dB below a frame's peak) dominates. These tests pin both facts.

function int8Matrix(t: TfliteTensor): Float64Array {
  const q = new Int8Array(t.data!.buffer, t.data!.byteOffset, t.data!.byteLength);
  const scale = t.quantization!.scale[0]!;
  return Float64Array.from(q, (v) => v * scale);
}

/** The graph's front end re-implemented from its own constants (frame, window, pad 56|56, int8 DFT, int8 mel). */
function emulateGraph(samples: Float32Array): Float32Array {
  const model = readTflite(Deno.readFileSync(weightsPath("yamnet.tflite")));
  const find = (shape: string, name: string) =>
    model.tensors.find((t) => t.shape.join() === shape && t.name.includes(name))!;
  const real = int8Matrix(find("257,512", "MatMul/MatMul"));
  const imag = int8Matrix(find("257,512", "MatMul_1/MatMul_1"));
  const mel = int8Matrix(find("64,257", "MatMul_2"));
  const window = new Float32Array(find("1,400", "Mul").data!.slice().buffer);
  const out = new Float32Array(96 * 64);
  const frame = new Float64Array(512);
  const magnitude = new Float64Array(257);
  for (let f = 0; f < 96; f++) {
    for (let n = 0; n < 400; n++) frame[56 + n] = samples[f * 160 + n]! * window[n]!;
    for (let k = 0; k < 257; k++) {
      let re = 0, im = 0;
      for (let n = 0; n < 512; n++) {
        re += frame[n]! * real[k * 512 + n]!;
        im += frame[n]! * imag[k * 512 + n]!;
      }
      magnitude[k] = Math.sqrt(re * re + im * im);
    }
    for (let b = 0; b < 64; b++) {
      let sum = 0;
      for (let k = 0; k < 257; k++) sum += magnitude[k]! * mel[b * 257 + k]!;
      out[f * 64 + b] = Math.log(sum + 0.001);
    }
  }
  return out;
}

async function graphLogMel(window: Float32Array): Promise<Float32Array> {
  const { session } = await encoder("yamnet_waveform");
  const out = await session.run({ input: { data: window, dims: [1, 15600] } }, ["log_mel"]);
  return out.log_mel!.data;
}

/** Max and mean |ours - graph|, over all values and over loud ones (ours > 0, i.e. mel > 1). */
function compare(ours: Float32Array, graph: Float32Array) {
  let max = 0, sum = 0, loudMax = 0;
  for (let i = 0; i < graph.length; i++) {
    const e = Math.abs(ours[i]! - graph[i]!);
    max = Math.max(max, e);
    sum += e;
    if (ours[i]! > 0) loudMax = Math.max(loudMax, e);
  }
  return { max, mean: sum / graph.length, loudMax };
}

Deno.test("logMel() differs from yamnet.tflite's log_mel only by the graph's int8 weights", async () => {
  const audio = fixtureAudio();
  const graph = await graphLogMel(audio);
  let emulationError = 0;
  const emulated = emulateGraph(audio);
  for (let i = 0; i < graph.length; i++) emulationError = Math.max(emulationError, Math.abs(emulated[i]! - graph[i]!));
  assert.ok(emulationError < 1e-4, `graph vs its int8 emulation: max abs ${emulationError}`);
  // Measured: max 0.283, mean 0.0068, loud max 0.0106.
  const { max, mean, loudMax } = compare(logMel(audio, YAMNET_LOG_MEL).data, graph);
  assert.ok(loudMax < 0.02, `loud bins: max abs ${loudMax}`);
  assert.ok(mean < 0.01, `mean abs ${mean}`);
  assert.ok(max < 0.35, `max abs ${max}`);
});

Deno.test("logMel() agrees with yamnet.tflite's log_mel on loud bins of a corpus violin clip", async () => {
  const path = "audio/iowa_pitchfinder/violin/violin__Violin.arco.ff.sulD.G4.stereo.flac";
  const padded = padWaveform((await decodeAudio(await Deno.readFile(join(CORPUS_DIR, path)))).samples);
  const ours = logMel(padded, YAMNET_LOG_MEL);
  const windows = patchWindowCount(padded.length);
  let loudMax = 0, sum = 0;
  for (let w = 0; w < windows; w++) {
    const graph = await graphLogMel(padded.slice(w * 7680, w * 7680 + 15600));
    const stats = compare(ours.data.subarray(w * 48 * 64, w * 48 * 64 + 96 * 64), graph);
    loudMax = Math.max(loudMax, stats.loudMax);
    sum += stats.mean;
  }
  // Measured: loud max 0.021, mean 0.045 (quiet release and padding dominate the mean).
  assert.ok(loudMax < 0.04, `loud bins: max abs ${loudMax}`);
  assert.ok(sum / windows < 0.1, `mean abs ${sum / windows}`);
});
