/**
 * Small real videos for the tests, made with the service's own ffmpeg.wasm (`scripts/shared/make_video.ts`)
 * from a corpus photo and a corpus recording of the same label (read through the configured shared dir),
 * plus the broken ones the hostile tests need. Nothing is stored: every fixture is made again, the same way, by the test that uses it.
 *
 * @module
 */
import { runFfmpeg } from "../../../lib/media/ffmpeg.ts";
import { makeVideo } from "../../../scripts/shared/make_video.ts";
import { corpusFile } from "./_corpus.ts";

export { type Container, CONTAINERS, makeVideo, type MakeVideoOptions } from "../../../scripts/shared/make_video.ts";

/** A violin photo (gpiosenka, 224x224 JPEG). */
export const VIOLIN_PHOTO = "images/gpiosenka/violin/train_001.jpg";
/** A violin recording (Iowa MIS, A4 arco, FLAC). */
export const VIOLIN_RECORDING = "audio/iowa_pitchfinder/violin/violin__Violin.arco.ff.sulA.A4.stereo.flac";

/** The violin photo and recording. */
export async function violinInputs(): Promise<{ photo: Uint8Array<ArrayBuffer>; sound: Uint8Array<ArrayBuffer> }> {
  return { photo: (await corpusFile(VIOLIN_PHOTO)).slice(), sound: (await corpusFile(VIOLIN_RECORDING)).slice() };
}

/**
 * A WebM whose VP8 frames cannot be decoded: every keyframe's start code (`9d 01 2a`) is broken, so the
 * stream is declared and its packets are there, but no frame decodes (inter frames need a keyframe). The
 * Opus audio is left as it is.
 *
 * @param webm A WebM made by {@linkcode makeVideo} with `container: "webm"`.
 * @returns The damaged copy and how many start codes were broken.
 */
export function breakVp8Frames(webm: Uint8Array): { bytes: Uint8Array<ArrayBuffer>; broken: number } {
  const out = webm.slice();
  let broken = 0;
  for (let i = 0; i + 3 <= out.length; i++) {
    if (out[i] === 0x9d && out[i + 1] === 0x01 && out[i + 2] === 0x2a) {
      out[i] = 0x00;
      broken++;
    }
  }
  return { bytes: out, broken };
}

/**
 * An MP4 with its index (`moov`) in front, cut to `fraction` of its length: the streams are declared, the
 * samples past the cut are gone.
 *
 * @param photo Image bytes.
 * @param sound Audio bytes.
 * @param fraction Part of the file kept.
 * @returns The cut file.
 */
export async function truncatedVideo(
  photo: Uint8Array,
  sound: Uint8Array,
  fraction: number,
): Promise<Uint8Array<ArrayBuffer>> {
  const mp4 = await makeVideo(photo, sound, { faststart: true });
  return mp4.slice(0, Math.floor(mp4.length * fraction));
}

/**
 * Rewrites every duration an MP4 declares (movie, track and media headers) to `seconds`, leaving the
 * samples as they are: a small file whose header claims hours.
 *
 * @param mp4 An MP4 file.
 * @param seconds The duration to claim.
 * @returns A patched copy.
 */
export function claimDuration(mp4: Uint8Array, seconds: number): Uint8Array<ArrayBuffer> {
  const out = mp4.slice();
  const view = new DataView(out.buffer);
  const find = (type: string) => {
    const at: number[] = [];
    const code = [...type].map((c) => c.charCodeAt(0));
    for (let i = 4; i + 4 <= out.length; i++) {
      if (code.every((b, k) => out[i + k] === b)) at.push(i - 4);
    }
    return at;
  };
  // Version-0 full boxes: size(4) type(4) version+flags(4) ctime(4) mtime(4) ...
  for (const box of find("mvhd")) {
    const timescale = view.getUint32(box + 20);
    view.setUint32(box + 24, Math.min(0xffffffff, Math.round(seconds * timescale)));
  }
  for (const box of find("mdhd")) {
    const timescale = view.getUint32(box + 20);
    view.setUint32(box + 24, Math.min(0xffffffff, Math.round(seconds * timescale)));
  }
  // tkhd: ... ctime(4) mtime(4) track id(4) reserved(4) duration(4), in the movie timescale.
  const movieScale = view.getUint32(find("mvhd")[0]! + 20);
  for (const box of find("tkhd")) view.setUint32(box + 28, Math.min(0xffffffff, Math.round(seconds * movieScale)));
  return out;
}

/**
 * Rewrites the duration a WebM's Segment Info declares (EBML element 0x4489, an 8-byte float in timecode
 * units of 1 ms, as ffmpeg writes it) to `seconds`.
 *
 * @param webm A WebM made by {@linkcode makeVideo}.
 * @param seconds The duration to claim.
 * @returns A patched copy.
 * @throws {Error} When the file has no 8-byte Duration element.
 */
export function claimWebmDuration(webm: Uint8Array, seconds: number): Uint8Array<ArrayBuffer> {
  const out = webm.slice();
  for (let i = 0; i + 11 <= out.length; i++) {
    if (out[i] === 0x44 && out[i + 1] === 0x89 && out[i + 2] === 0x88) {
      new DataView(out.buffer).setFloat64(i + 3, seconds * 1000);
      return out;
    }
  }
  throw new Error("no 8-byte Duration element in this WebM");
}

/**
 * A WebM remuxed as a live stream (`-live 1`: no duration, no cues), as a browser's MediaRecorder writes it.
 *
 * @param webm A WebM file.
 * @returns The same streams without a declared duration.
 */
export async function liveWebm(webm: Uint8Array): Promise<Uint8Array<ArrayBuffer>> {
  return (await runFfmpeg(webm, ["-i", "in", "-c", "copy", "-live", 1, "-f", "webm", "out"])).slice();
}
