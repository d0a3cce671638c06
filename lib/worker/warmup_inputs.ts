/**
 * Tiny valid inputs used to warm sessions and decoders at start.
 *
 * @module
 */
import { encodeWav } from "../media/encode_wav.ts";
import { encodeAudio } from "../media/ffmpeg.ts";
import { keepAlive, loadSharp } from "../media/sharp.ts";

/**
 * One second of a 440 Hz tone as WAV (at 44.1 kHz, so the resampler's filter
 * is built) and as FLAC (so ffmpeg.wasm is loaded), and a small JPEG.
 *
 * @returns Files that exercise the WAV, ffmpeg and image paths.
 */
export async function warmupInputs(): Promise<Uint8Array[]> {
  const rate = 44100;
  const samples = new Float32Array(rate).map((_, i) => 0.1 * Math.sin((2 * Math.PI * 440 * i) / rate));
  // ffmpeg.wasm and sharp load side by side (their WASM compiles overlap): 2.8-3.0 s instead of 3.3 s in a fresh
  // worker on the loaded 2-core machine.
  const flac = encodeAudio(samples, rate, "flac");
  flac.catch(() => {});
  const sharp = await loadSharp();
  const jpeg = await keepAlive(
    sharp({ create: { width: 64, height: 48, channels: 3, background: "#808080" } }).jpeg().toBuffer(),
  );
  return [encodeWav(samples, rate), await flac, new Uint8Array(jpeg)];
}
