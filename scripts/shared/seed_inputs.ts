/**
 * Real inputs for the fuzz and soak scripts: corpus recordings and photos
 * (`AMODAL_CORPUS_DIR`), plus the same material transcoded into every other
 * supported format, so that every decoder gets real content (HEIC, which
 * nothing here can write, from the peer fixtures in `<shared>/fixtures/heic`).
 *
 * @module
 */
import { createRandom } from "./random.ts";
import { join } from "node:path";
import { loadConfig } from "../../lib/config.ts";
import { encodeWav } from "../../lib/media/encode_wav.ts";
import { encodeAiff } from "./encode_aiff.ts";
import { decodeWithFfmpeg, encodeAudio } from "../../lib/media/ffmpeg.ts";
import { downmix } from "../../lib/media/resample.ts";
import { keepAlive, loadSharp } from "../../lib/media/sharp.ts";
import { makeVideo } from "./make_video.ts";

/** One input file and where it came from. */
export interface SeedInput {
  /** E.g. `corpus:images/gpiosenka/banjo/x.jpg` or `webm of corpus:audio/...`. */
  name: string;
  /** Format, as the service would sniff it. */
  format: string;
  modality: "audio" | "image" | "video";
  bytes: Uint8Array;
}

/** Corpus folder (`lib/config.ts`: `AMODAL_CORPUS_DIR`, default `<shared>/corpus`). */
export function corpusDir(): string {
  return loadConfig().corpusDir;
}

/** A deterministic generator in [0, 1) for a numeric seed. */
export function random(seed: number): () => number {
  return createRandom(seed).next;
}

/**
 * Picks `count` corpus files of a modality, reproducibly for a seed.
 *
 * @returns Paths relative to the corpus folder.
 */
export async function pickCorpus(modality: "audio" | "image", count: number, seed: number): Promise<string[]> {
  const manifest = await Deno.readTextFile(join(corpusDir(), "manifest.csv"));
  const paths = manifest.split("\n").slice(1).map((line) => line.split(",")).filter((cols) => cols[1] === modality)
    .map((cols) => cols[0]!);
  const rand = random(seed);
  const picked = new Set<string>();
  while (picked.size < Math.min(count, paths.length)) picked.add(paths[Math.floor(rand() * paths.length)]!);
  return [...picked];
}

async function corpusFile(path: string): Promise<Uint8Array> {
  return await Deno.readFile(join(corpusDir(), path));
}

/**
 * The first `seconds` of a corpus recording as WAV (16-bit, its own rate, mono).
 */
export async function corpusWav(path: string, seconds = 5): Promise<Uint8Array> {
  const pcm = await decodeWithFfmpeg(await corpusFile(path), { maxSeconds: seconds });
  return encodeWav(downmix(pcm.channels), pcm.sampleRate);
}

/**
 * Seed files for fuzzing: `audio` corpus FLACs and `images` corpus photos as
 * they are, plus the first of each transcoded to every other format, and
 * videos of the first photo over the first recording in MP4 (H.264 + AAC),
 * WebM (VP8 + Opus) and MOV (MPEG-4 + AAC), one of them without audio.
 *
 * @param options How many corpus files per modality and the selection seed.
 */
export async function fuzzSeeds(
  options: { audio?: number; images?: number; seed?: number } = {},
): Promise<SeedInput[]> {
  const seed = options.seed ?? 1;
  const audioPaths = await pickCorpus("audio", options.audio ?? 3, seed);
  const imagePaths = await pickCorpus("image", options.images ?? 3, seed + 1);
  const seeds: SeedInput[] = [];
  for (const path of audioPaths) {
    seeds.push({ name: `corpus:${path}`, format: "flac", modality: "audio", bytes: await corpusFile(path) });
  }
  for (const path of imagePaths) {
    const bytes = await corpusFile(path);
    const format = bytes[0] === 0x89 ? "png" : "jpeg"; // the corpus holds PNGs named .jpg
    seeds.push({ name: `corpus:${path}`, format, modality: "image", bytes });
  }
  const audioPath = audioPaths[0]!;
  const pcm = await decodeWithFfmpeg(await corpusFile(audioPath), { maxSeconds: 3 });
  const mono = downmix(pcm.channels);
  seeds.push({
    name: `wav of corpus:${audioPath}`,
    format: "wav",
    modality: "audio",
    bytes: encodeWav(mono, pcm.sampleRate),
  });
  seeds.push({
    name: `aiff-c sowt 24-bit of corpus:${audioPath}`,
    format: "aiff",
    modality: "audio",
    bytes: encodeAiff({ channels: [mono], sampleRate: pcm.sampleRate, bits: 24, compression: "sowt" }),
  });
  for (const format of ["mp3", "ogg", "m4a", "webm"] as const) {
    const bytes = await encodeAudio(mono, pcm.sampleRate, format);
    seeds.push({ name: `${format} of corpus:${audioPath}`, format, modality: "audio", bytes });
  }
  const imagePath = imagePaths[0]!;
  const sharp = await loadSharp();
  for (const format of ["png", "webp", "gif", "avif", "tiff"] as const) {
    const out = await keepAlive(
      sharp(await corpusFile(imagePath)).resize(320, 320, { fit: "inside" }).toFormat(format).toBuffer(),
    );
    // A copy: sharp's buffers may be views into memory it reuses.
    seeds.push({
      name: `${format} of corpus:${imagePath}`,
      format,
      modality: "image",
      bytes: new Uint8Array(out).slice(),
    });
  }
  const photo = await corpusFile(imagePath);
  const recording = await corpusFile(audioPath);
  for (const container of ["mp4", "webm", "mov"] as const) {
    seeds.push({
      name: `${container} of corpus:${imagePath} over corpus:${audioPath}`,
      format: container,
      modality: "video",
      bytes: await makeVideo(photo, recording, { container, seconds: 2 }),
    });
  }
  seeds.push({
    name: `mp4 without audio of corpus:${imagePath}`,
    format: "mp4",
    modality: "video",
    bytes: await makeVideo(photo, undefined, { seconds: 2 }),
  });
  // sharp-wasm writes no HEVC: HEIC seeds are Nokia's conformance stills (a plain item, a grid, rotation + crop).
  const heicDir = join(loadConfig().sharedDir, "fixtures/heic");
  for (const file of ["C002.heic", "grid_960x640.heic", "C014.heic"]) {
    try {
      seeds.push({
        name: `fixtures:heic/${file}`,
        format: "heic",
        modality: "image",
        bytes: await Deno.readFile(join(heicDir, file)),
      });
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error; // no peer fixtures here: fuzz without HEIC
    }
  }
  return seeds;
}
