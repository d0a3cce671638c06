/**
 * Videos made with the service's own ffmpeg.wasm from a still picture and a sound, for the tests and the
 * fuzzer's seeds (no binary fixtures): the codecs @ffmpeg/core 0.12.10 can write, per container.
 *
 * @module
 */
import { runFfmpeg } from "../../lib/media/ffmpeg.ts";

/** Containers and their codecs, as @ffmpeg/core 0.12.10 has them (no VP9: its encoder traps in the build). */
export const CONTAINERS = {
  mp4: { video: "libx264", audio: "aac", muxer: "mp4" },
  webm: { video: "libvpx", audio: "libopus", muxer: "webm" },
  mov: { video: "mpeg4", audio: "aac", muxer: "mov" },
} as const;

/** A container name. */
export type Container = keyof typeof CONTAINERS;

/** Options of {@linkcode makeVideo}. */
export interface MakeVideoOptions {
  /** Container (and codecs). @default "mp4" */
  container?: Container;
  /** Seconds of video. @default 3 */
  seconds?: number;
  /** Frames per second. @default 5 */
  fps?: number;
  /** Frames written at most (1: a one-frame video). */
  frames?: number;
  /** Leave the audio out even when a sound is given. */
  noAudio?: boolean;
  /** Width of the video (height keeps the photo's aspect). @default 160 */
  width?: number;
  /** Put the MP4 index in front (`-movflags +faststart`), as streaming writers do. */
  faststart?: boolean;
}

/**
 * A video of a still photo over a recording, or without audio.
 *
 * @param photo Image file bytes (anything ffmpeg decodes: JPEG, PNG).
 * @param sound Audio file bytes (FLAC, WAV, ...) or undefined for a video without an audio track.
 * @param options Container, length, frame rate.
 * @returns The video file.
 */
export async function makeVideo(
  photo: Uint8Array,
  sound: Uint8Array | undefined,
  options: MakeVideoOptions = {},
): Promise<Uint8Array<ArrayBuffer>> {
  const { video, audio, muxer } = CONTAINERS[options.container ?? "mp4"];
  const seconds = options.seconds ?? 3;
  const withAudio = sound !== undefined && !options.noAudio;
  const out = await runFfmpeg(
    photo,
    [
      "-hide_banner",
      "-loop",
      1,
      "-framerate",
      options.fps ?? 5,
      "-t",
      // A one-frame video is a still shown for one frame's time, over the whole sound.
      options.frames ? options.frames / (options.fps ?? 5) : seconds,
      "-i",
      "in",
      ...(withAudio ? ["-i", "in2", "-map", "0:v", "-map", "1:a", "-c:a", audio, "-b:a", "64k", "-t", seconds] : []),
      "-vf",
      `scale=${options.width ?? 160}:-2,format=yuv420p`,
      "-c:v",
      video,
      ...(options.faststart ? ["-movflags", "+faststart"] : []),
      "-f",
      muxer,
      "out",
    ],
    60_000,
    withAudio ? { in2: sound } : {},
  );
  return out.slice();
}
