/**
 * Tiny valid inputs used to warm sessions and decoders at start.
 *
 * @module
 */
import { encodeWav } from "../media/encode_wav.ts";
import { keepAlive, loadSharp } from "../media/sharp.ts";

/**
 * One second of a 440 Hz tone as WAV and a small JPEG, made in memory.
 *
 * @returns Files that exercise both the audio and the image path.
 */
export async function warmupInputs(): Promise<Uint8Array[]> {
  const samples = new Float32Array(16000).map((_, i) => 0.1 * Math.sin((2 * Math.PI * 440 * i) / 16000));
  const sharp = await loadSharp();
  const jpeg = await keepAlive(
    sharp({ create: { width: 64, height: 48, channels: 3, background: "#808080" } }).jpeg().toBuffer(),
  );
  return [encodeWav(samples, 16000), new Uint8Array(jpeg)];
}
