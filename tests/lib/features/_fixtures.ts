/**
 * Readers for the shared YAMNet fixtures used by the feature tests.
 *
 * @module
 */
import { join } from "node:path";
import { loadConfig } from "../../../lib/config.ts";
import type { LogMelParams } from "../../../lib/features/log_mel.ts";
import catalog from "../../../models/encoders.json" with { type: "json" };

const { weightsDir } = loadConfig();

/** The fixture waveform: 15600 int16 samples (16 kHz speech) scaled to [-1, 1]. */
export function fixtureAudio(): Float32Array {
  const bytes = Deno.readFileSync(join(weightsDir, "fixtures", "yamnet_test_audio.bin"));
  const int16 = new Int16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2);
  return Float32Array.from(int16, (v) => v / 32768);
}

/** The coralmicro fixture patch `[96, 64]` fed to `yamnet_spectra_in.tflite`. */
export function fixtureSpectra(): Float32Array {
  const bytes = Deno.readFileSync(join(weightsDir, "fixtures", "yamnet_test_spectra.bin"));
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
}

/** Path of a file in the shared weights folder. */
export function weightsPath(name: string): string {
  return join(weightsDir, name);
}

/** YAMNet's log-mel constants, as its card in `models/encoders.json` carries them. */
export const YAMNET_LOG_MEL: LogMelParams = yamnetLogMel(catalog);

function yamnetLogMel(json: typeof catalog): LogMelParams {
  const card = json.encoders.find((c) => c.name === "yamnet");
  const params = (card?.preprocess as { logMel?: LogMelParams } | undefined)?.logMel;
  if (!params) throw new Error("models/encoders.json has no yamnet preprocess.logMel");
  return params;
}
