/**
 * The inputs of the adversarial memory burst (`deno task soak --adversarial`, issue 16): the largest
 * uploads the default limits let through, each stressing a different part of the service's memory.
 *
 * @module
 */
import { join } from "node:path";
import type { Config } from "../../lib/config.ts";
import { keepAlive, loadSharp } from "../../lib/media/sharp.ts";
import { corpusDir, pickCorpus } from "./seed_inputs.ts";
import { createRandom } from "./random.ts";
import { makeVideo } from "./make_video.ts";

/** One distinct burst request body. */
export interface BurstInput {
  /** Short name for the report, e.g. `noise-jpeg-4032x3024`. */
  name: string;
  bytes: Uint8Array<ArrayBuffer>;
}

/** Pseudo-random bytes from a seed (crypto.getRandomValues takes at most 64 kB a call). */
function noise(length: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  const words = new Uint32Array(out.buffer, 0, length >> 2);
  const next = createRandom(seed).next;
  for (let i = 0; i < words.length; i++) words[i] = next() * 2 ** 32;
  return out;
}

/** A 16-bit PCM WAV of `seconds` of noise-modulated tones, `channels` at `rate`. */
function stereoWav(seconds: number, rate: number, channels: number): Uint8Array<ArrayBuffer> {
  const frames = seconds * rate;
  const dataBytes = frames * channels * 2;
  const out = new Uint8Array(44 + dataBytes);
  const view = new DataView(out.buffer);
  const text = (at: number, s: string) => [...s].forEach((ch, i) => view.setUint8(at + i, ch.charCodeAt(0)));
  text(0, "RIFF");
  view.setUint32(4, 36 + dataBytes, true);
  text(8, "WAVEfmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);
  view.setUint16(22, channels, true);
  view.setUint32(24, rate, true);
  view.setUint32(28, rate * channels * 2, true);
  view.setUint16(32, channels * 2, true);
  view.setUint16(34, 16, true);
  text(36, "data");
  view.setUint32(40, dataBytes, true);
  const next = createRandom(7).next;
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < channels; c++) {
      const tone = Math.sin(2 * Math.PI * (440 + 110 * c) * f / rate) * 0.4;
      view.setInt16(44 + (f * channels + c) * 2, Math.round((tone + (next() - 0.5) * 0.1) * 32767), true);
    }
  }
  return out;
}

/**
 * Builds the burst inputs: a 4032x3024 JPEG of noise (~14 MB, what no compressor shrinks), a
 * 6000x4500 photo (a corpus photo enlarged), a 30 s (`maxAudioSeconds`) 48 kHz stereo WAV, random
 * bytes of exactly `maxBodyBytes`, a 224 px photo, and a video as long as `maxAudioSeconds` with
 * 3840 px wide frames (one a second, MPEG-4 in MOV) over that WAV: every frame the service takes
 * is decoded at full size before it is scaled.
 *
 * @param config The service's limits.
 * @returns The six inputs.
 */
export async function adversarialInputs(
  config: Pick<Config, "maxBodyBytes" | "maxAudioSeconds">,
): Promise<BurstInput[]> {
  const sharp = await loadSharp();
  const [photoPath] = await pickCorpus("image", 1, 3);
  const photo = await Deno.readFile(join(corpusDir(), photoPath!));
  const jpeg = async (pipeline: ReturnType<typeof sharp>) =>
    new Uint8Array(await keepAlive(pipeline.jpeg({ quality: 90 }).toBuffer())).slice();
  const noiseJpeg = new Uint8Array(
    await keepAlive(
      sharp(noise(4032 * 3024 * 3, 1), { raw: { width: 4032, height: 3024, channels: 3 } }).jpeg({ quality: 96 })
        .toBuffer(),
    ),
  ).slice();
  if (noiseJpeg.length > config.maxBodyBytes) throw new RangeError("the noise JPEG is over the body limit");
  return [
    { name: "noise-jpeg-4032x3024", bytes: noiseJpeg },
    { name: "photo-6000x4500", bytes: await jpeg(sharp(photo).resize(6000, 4500, { fit: "fill" })) },
    { name: `wav-${config.maxAudioSeconds}s-48k-stereo`, bytes: stereoWav(config.maxAudioSeconds, 48_000, 2) },
    { name: "random-bytes", bytes: noise(config.maxBodyBytes, 2) },
    { name: "photo-224", bytes: await jpeg(sharp(photo).resize(224, 224, { fit: "fill" })) },
    {
      name: `video-3840w-${config.maxAudioSeconds}s`,
      bytes: await makeVideo(photo, stereoWav(config.maxAudioSeconds, 48_000, 2), {
        container: "mov",
        seconds: config.maxAudioSeconds,
        fps: 1,
        width: 3840,
      }),
    },
  ];
}
