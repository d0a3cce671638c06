/**
 * Other projects' decoder test files (`<shared>/fixtures`, see its README)
 * as regression tests: go-audio/wav's WAV set, go-audio/aiff's AIFF and
 * AIFF-C files, Nokia's HEIF stills. Expected values are the upstream facts
 * that README lists, not what our code happened to produce.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../../../lib/config.ts";
import { ProblemError } from "../../../lib/errors.ts";
import { readAiffHeader } from "../../../lib/media/aiff.ts";
import { decodeAudio } from "../../../lib/media/decode_audio.ts";
import { decodeImage } from "../../../lib/media/decode_image.ts";
import { sniff } from "../../../lib/media/sniff.ts";
import { decodeWav, readWavHeader } from "../../../lib/media/wav.ts";

const FIXTURES = join(loadConfig().sharedDir, "fixtures");
const ignore = !existsSync(join(FIXTURES, "manifest.csv"));
if (ignore) console.warn(`peer fixture tests skipped: ${FIXTURES}/manifest.csv not found (set AMODAL_SHARED_DIR)`);
const read = (path: string) => Deno.readFile(join(FIXTURES, path));

/** go-audio/wav: [file, channels, rate, container bits, frames (undefined: upstream gives none)]. */
const WAVS: [string, number, number, number, number | undefined][] = [
  ["kick.wav", 1, 22050, 16, 4484],
  ["kick-16b441k.wav", 2, 44100, 16, 7782],
  ["bass.wav", 2, 44100, 24, 23957],
  ["dirty-kick-24b441k.wav", 2, 44100, 24, 21340],
  ["8bit.wav", 1, 44100, 8, 88200],
  ["32bit.wav", 1, 44100, 32, 88200],
  ["bwf.wav", 1, 44100, 24, 7287],
  ["listinfo.wav", 1, 44100, 16, 88200],
  ["listChunkInHeader.wav", 2, 44100, 24, 15318],
  ["flloop.wav", 2, 44100, 16, 108281],
  ["misaligned-chunk.wav", 2, 44100, 24, 564480],
  ["padded24b.wav", 1, 44100, 24, 3713],
];

Deno.test({
  name: "decodeWav() reads every go-audio/wav WAV with the upstream rate, channels and frames",
  ignore,
  fn: async () => {
    for (const [file, channels, rate, bits, frames] of WAVS) {
      const bytes = await read(`go-audio-wav/${file}`);
      const header = readWavHeader(bytes);
      assert.deepEqual(
        [header.channels, header.sampleRate, header.bitsPerSample, header.frames],
        [channels, rate, bits, frames],
        file,
      );
      const decoded = await decodeAudio(bytes);
      assert.ok(decoded.samples.length > 0, file);
    }
  },
});

Deno.test({
  name: "decodeWav() matches go-audio's sample sums for kick.wav and bwf.wav",
  ignore,
  fn: async () => {
    // decoder_test.go sums the integer samples: 180896 (16-bit) and 1003870765 (24-bit).
    for (const [file, scale, sum] of [["kick.wav", 32768, 180896], ["bwf.wav", 8388608, 1003870765]] as const) {
      const pcm = decodeWav(await read(`go-audio-wav/${file}`));
      let total = 0;
      for (const x of pcm.channels[0]!) total += Math.round(x * scale);
      assert.equal(total, sum, file);
    }
  },
});

/** go-audio/aiff (and bloop.aif from go-audio/wav): [file, form, compression, channels, rate, bits, frames]. */
const AIFFS: [string, string, string, number, number, number, number][] = [
  ["go-audio-wav/bloop.aif", "AIFF", "NONE", 2, 44100, 16, 7629],
  ["go-audio-aiff/kick.aif", "AIFF", "NONE", 1, 22050, 16, 4484],
  ["go-audio-aiff/kick8b.aiff", "AIFF", "NONE", 1, 22050, 8, 4484],
  ["go-audio-aiff/kick32b.aiff", "AIFF", "NONE", 1, 22050, 32, 4484],
  ["go-audio-aiff/delivery.aiff", "AIFF", "NONE", 1, 22050, 16, 17199],
  ["go-audio-aiff/ring.aif", "AIFF", "NONE", 2, 44100, 16, 88064],
  ["go-audio-aiff/zipper.aiff", "AIFF", "NONE", 2, 48000, 16, 105936],
  ["go-audio-aiff/zipper24b.aiff", "AIFF", "NONE", 2, 48000, 24, 105936],
  ["go-audio-aiff/padded24b.aif", "AIFF", "NONE", 1, 48000, 24, 22913],
  ["go-audio-aiff/sowt.aif", "AIFC", "sowt", 2, 44100, 16, 4064],
  ["go-audio-aiff/sowt2.aif", "AIFC", "sowt", 2, 44100, 16, 166677],
];

Deno.test({
  name: "decodeAiff() reads every go-audio AIFF/AIFF-C file with the upstream format and frames",
  ignore,
  fn: async () => {
    for (const [file, form, compression, channels, rate, bits, frames] of AIFFS) {
      const bytes = await read(file);
      assert.deepEqual(sniff(bytes), { modality: "audio", format: "aiff" }, file);
      const h = readAiffHeader(bytes);
      assert.deepEqual(
        [h.form, h.compression, h.channels, h.sampleRate, h.sampleSize, h.frames],
        [form, compression, channels, rate, bits, frames],
        file,
      );
      const decoded = await decodeAudio(bytes);
      assert.ok(Math.abs(decoded.durationSeconds - frames / rate) < 1e-9, file);
    }
  },
});

Deno.test({
  name: "decodeAiff() gives kick.aif's first samples as go-audio lists them",
  ignore,
  fn: async () => {
    const { decodeAiff } = await import("../../../lib/media/aiff.ts");
    const pcm = decodeAiff(await read("go-audio-aiff/kick.aif"));
    const first = Array.from(pcm.channels[0]!.subarray(0, 5), (x) => Math.round(x * 32768));
    assert.deepEqual(first, [76, 76, 75, 75, 72]);
  },
});

Deno.test({
  name: "decodeAudio() refuses what go-audio calls invalid: AVI is not audio, Ableton's 'able' AIFF-C is not PCM",
  ignore,
  fn: async () => {
    await assert.rejects(decodeAudio(await read("go-audio-wav/sample.avi")), (e) => e instanceof ProblemError);
    await assert.rejects(
      decodeAudio(await read("go-audio-aiff/ableton.aif")),
      (e) => e instanceof ProblemError && e.status === 422,
    );
  },
});

/** Nokia HEIF stills: [file, width, height] of the primary image after its transforms. */
const HEICS: [string, number, number][] = [
  ["winter_1440x960.heic", 1440, 960],
  ["C002.heic", 1280, 720],
  ["grid_960x640.heic", 960, 640], // the 2x2 grid, not its 480x320 first tile
  ["C022.heic", 1440, 960], // grid output size, tiles cropped
  ["C014.heic", 300, 300], // iden item: clap 300x300, then irot 90
  ["C042.heic", 1280, 720],
  ["C034.heic", 1280, 720],
  ["random_collection_1440x960.heic", 1440, 960],
  ["C045.heic", 1024, 768],
  ["MIAF006.heic", 1920, 1440],
  ["C052.heic", 1280, 720],
];

Deno.test({
  name: "decodeImage() decodes every Nokia HEIF still's primary image at its documented size",
  ignore,
  fn: async () => {
    for (const [file, width, height] of HEICS) {
      const bytes = await read(`heic/${file}`);
      assert.deepEqual(sniff(bytes), { modality: "image", format: "heic" }, file);
      const decoded = await decodeImage(bytes);
      assert.deepEqual([decoded.width, decoded.height, decoded.pixels.length], [width, height, 224 * 224 * 3], file);
    }
  },
});

Deno.test({
  name: "decodeImage() applies imir: C042 is C002 flipped top to bottom",
  ignore,
  fn: async () => {
    const plain = (await decodeImage(await read("heic/C002.heic"))).pixels;
    const mirrored = (await decodeImage(await read("heic/C042.heic"))).pixels;
    // The central crop and the resize are symmetric, so the preprocessed images are mirror images too (up to
    // resampling phase): compare row y of one with row 223 - y of the other.
    let diff = 0, same = 0;
    const row = 224 * 3;
    for (let y = 0; y < 224; y++) {
      for (let x = 0; x < row; x++) {
        diff += Math.abs(mirrored[y * row + x]! - plain[(223 - y) * row + x]!);
        same += Math.abs(mirrored[y * row + x]! - plain[y * row + x]!);
      }
    }
    const n = 224 * row;
    assert.ok(diff / n < 3, `mean difference to the flipped image ${diff / n}`);
    assert.ok(same / n > 3 * (diff / n), `mean difference to the unflipped image ${same / n}`);
  },
});

Deno.test({
  name: "decodeImage() answers HEIF that libheif-js cannot decode with a 422 (AVC-coded; clap+irot on a coded item)",
  ignore,
  fn: async () => {
    for (const file of ["multilayer004.heic", "MIAF007.heic"]) {
      await assert.rejects(
        decodeImage(await read(`heic/${file}`)),
        (e) => e instanceof ProblemError && e.status === 422 && /Cannot decode HEIC/.test(e.message),
        file,
      );
    }
  },
});
