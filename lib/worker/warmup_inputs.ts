/**
 * Tiny valid inputs used to warm sessions and decoders at start.
 *
 * @module
 */
import { encodeWav } from "../media/encode_wav.ts";

/**
 * One second of a 440 Hz tone as WAV and a small PNG, made in memory.
 *
 * @returns Files that exercise both the audio and the image path.
 */
export async function warmupInputs(): Promise<Uint8Array[]> {
  const samples = new Float32Array(16000).map((_, i) => 0.1 * Math.sin((2 * Math.PI * 440 * i) / 16000));
  const { default: sharp } = await import("sharp");
  const png = await sharp({ create: { width: 32, height: 32, channels: 3, background: "#808080" } }).png().toBuffer();
  return [encodeWav(samples, 16000), new Uint8Array(png)];
}
