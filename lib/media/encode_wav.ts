/**
 * Minimal 16-bit PCM WAV writer, for warm-up inputs, tests and dataset clips.
 *
 * @module
 */

/**
 * Encodes mono float samples in [-1, 1] as a 16-bit PCM WAV file.
 *
 * @param samples Mono samples; values outside [-1, 1] are clipped.
 * @param sampleRate Samples per second.
 * @returns The complete WAV file.
 *
 * @example
 * ```ts
 * const wav = encodeWav(new Float32Array(16000), 16000); // 1 s of silence
 * ```
 */
export function encodeWav(samples: Float32Array, sampleRate: number): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(44 + samples.length * 2);
  const view = new DataView(bytes.buffer);
  const ascii = (offset: number, text: string) => {
    for (let i = 0; i < text.length; i++) bytes[offset + i] = text.charCodeAt(i);
  };
  ascii(0, "RIFF");
  view.setUint32(4, 36 + samples.length * 2, true);
  ascii(8, "WAVE");
  ascii(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, 1, true); // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * 2, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  ascii(36, "data");
  view.setUint32(40, samples.length * 2, true);
  for (let i = 0; i < samples.length; i++) {
    const s = Math.max(-1, Math.min(1, samples[i]!));
    view.setInt16(44 + i * 2, Math.round(s * 32767), true);
  }
  return bytes;
}
