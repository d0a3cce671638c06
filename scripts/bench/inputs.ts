/**
 * The benchmark's request bodies, made from real corpus files: one photo
 * re-encoded at the sizes users send (JPEG 224x224, 1280x960, 4032x3024, PNG,
 * WebP) and one recording looped to 1, 10 and 30 s (44.1 kHz WAV, MP3).
 *
 * @module
 */
import { join } from "node:path";
import { datasetRoots } from "../dataset/paths.ts";
import { decodeAudio } from "../../lib/media/decode_audio.ts";
import { encodeAudio } from "../../lib/media/ffmpeg.ts";
import { encodeWav } from "../../lib/media/encode_wav.ts";
import { resample } from "../../lib/media/resample.ts";
import { keepAlive, loadSharp } from "../../lib/media/sharp.ts";

/** One benchmark input. */
export interface BenchInput {
  /** Short id used in results, e.g. `jpeg_1280x960`. */
  name: string;
  modality: "audio" | "image";
  /** What the bytes are, for the report. */
  description: string;
  bytes: Uint8Array<ArrayBuffer>;
}

/** Where the inputs come from (corpus paths), for the report. */
export interface InputSources {
  photo: string;
  recording: string;
}

/** Sample rate of the benchmark's WAV and MP3 files (what recorders write). */
const AUDIO_RATE = 44_100;

/**
 * Picks a photo and a recording (the first violin JPEG and the first violin
 * recording in the corpus manifest) and makes every benchmark input from them.
 *
 * @param corpusDir Corpus folder (default: `AMODAL_CORPUS_DIR` or `<shared>/corpus`).
 * @returns The inputs and their source paths.
 */
export async function makeBenchInputs(
  corpusDir: string = datasetRoots().corpusDir,
): Promise<{ inputs: BenchInput[]; sources: InputSources }> {
  const manifest = (await Deno.readTextFile(join(corpusDir, "manifest.csv"))).split("\n").slice(1);
  const sharp = await loadSharp();
  const rows = manifest.map((line) => line.split(","));
  // Corpus photos are small (~224 px); the larger sizes are this photo resized up.
  const photo = rows.find((f) => f[1] === "image" && f[2] === "violin" && f[0]!.endsWith(".jpg"))?.[0];
  const recording = rows.find((f) => f[1] === "audio" && f[2] === "violin")?.[0];
  if (!photo || !recording) throw new Error(`Cannot find a photo and a violin recording in ${corpusDir}/manifest.csv`);

  const source = await Deno.readFile(join(corpusDir, photo));
  const image = async (width: number, height: number, format: "jpeg" | "png" | "webp") => {
    const resized = sharp(source).resize(width, height, { fit: "fill" });
    const encoded = format === "jpeg"
      ? resized.jpeg({ quality: 90 })
      : format === "png"
      ? resized.png()
      : resized.webp({ quality: 90 });
    return new Uint8Array(await keepAlive(encoded.toBuffer()));
  };
  const inputs: BenchInput[] = [];
  for (const [w, h] of [[224, 224], [1280, 960], [4032, 3024]] as const) {
    inputs.push({
      name: `jpeg_${w}x${h}`,
      modality: "image",
      description: `JPEG ${w}x${h} (q90)`,
      bytes: await image(w, h, "jpeg"),
    });
  }
  inputs.push({
    name: "png_1280x960",
    modality: "image",
    description: "PNG 1280x960",
    bytes: await image(1280, 960, "png"),
  });
  inputs.push({
    name: "webp_1280x960",
    modality: "image",
    description: "WebP 1280x960 (q90)",
    bytes: await image(1280, 960, "webp"),
  });

  const decoded = await decodeAudio(await Deno.readFile(join(corpusDir, recording)), { maxSeconds: 60 });
  const at44k = resample(decoded.samples, 16_000, AUDIO_RATE);
  const loop = (seconds: number) => {
    const out = new Float32Array(Math.round(seconds * AUDIO_RATE));
    for (let i = 0; i < out.length; i++) out[i] = at44k[i % at44k.length]!;
    return out;
  };
  for (const seconds of [1, 10, 30]) {
    inputs.push({
      name: `wav_${seconds}s`,
      modality: "audio",
      description: `WAV ${seconds} s, 44.1 kHz mono 16-bit`,
      bytes: encodeWav(loop(seconds), AUDIO_RATE),
    });
  }
  inputs.push({
    name: "mp3_10s",
    modality: "audio",
    description: "MP3 10 s, 44.1 kHz mono (libmp3lame default 128 kb/s)",
    bytes: new Uint8Array(await encodeAudio(loop(10), AUDIO_RATE, "mp3")),
  });
  return { inputs, sources: { photo, recording } };
}
