/**
 * Real co-occurring translation pairs from videos, as in the paper: 1 s of
 * a video's audio and the video frame at the middle of that second.
 *
 * The corpus has no videos; this is the path a user with videos trains
 * from (mixed with or instead of the label pairs of `pairs.ts`). Decoding
 * goes through the project's ffmpeg.wasm (`lib/media/ffmpeg.ts`).
 *
 * @module
 */
import { ProblemError } from "../../lib/errors.ts";
import { decodeAudio } from "../../lib/media/decode_audio.ts";
import { runFfmpeg } from "../../lib/media/ffmpeg.ts";

/** One co-occurring audio/image pair. */
export interface VideoPair {
  /** Start of the audio clip in the video, seconds. */
  startSeconds: number;
  /** Time of the frame (middle of the clip), seconds. */
  frameSeconds: number;
  /** Mono 16 kHz audio, exactly `clipSeconds` long (zero-padded at the end). */
  audio: Float32Array;
  /** The frame as a PNG file (decode with `decodeImage` like any image). */
  frame: Uint8Array;
}

/** Options of {@link videoPairs}. */
export interface VideoPairOptions {
  /** Clip length in seconds. @default 1 */
  clipSeconds?: number;
  /** Step between clip starts in seconds. @default 1 */
  hopSeconds?: number;
  /** Most pairs taken from one video. @default 30 */
  maxPairs?: number;
}

/**
 * Cuts a video into (1 s audio, frame) pairs.
 *
 * @param videoBytes A video file ffmpeg can read (MP4, WebM, MKV, ...) with an audio and a video stream.
 * @param options Clip length, hop and cap.
 * @returns Pairs in time order; clips must lie fully inside the audio.
 * @throws {ProblemError} 422 when the file has no audio, no video frames, or cannot be decoded.
 *
 * @example
 * ```ts
 * const pairs = await videoPairs(await Deno.readFile("concert.mp4"), { maxPairs: 10 });
 * ```
 */
export async function videoPairs(videoBytes: Uint8Array, options: VideoPairOptions = {}): Promise<VideoPair[]> {
  const clipSeconds = options.clipSeconds ?? 1;
  const hop = options.hopSeconds ?? 1;
  const maxPairs = options.maxPairs ?? 30;
  if (!(clipSeconds > 0 && hop > 0 && maxPairs >= 1)) {
    throw new RangeError(`Cannot cut video pairs: clipSeconds ${clipSeconds}, hopSeconds ${hop}, maxPairs ${maxPairs}`);
  }
  // A video container is never the WAV fast path: naming it mp4 sends any video to ffmpeg.
  const { samples, sampleRate } = await decodeAudio(videoBytes, {
    format: "mp4",
    maxSeconds: (maxPairs - 1) * hop + clipSeconds,
  });
  const clipLength = Math.round(clipSeconds * sampleRate);
  const pairs: VideoPair[] = [];
  for (let k = 0; k < maxPairs; k++) {
    const start = Math.round(k * hop * sampleRate);
    if (start + clipLength > samples.length + 1) break;
    const startSeconds = k * hop;
    const frameSeconds = startSeconds + clipSeconds / 2;
    const frame = await runFfmpeg(videoBytes, [
      "-hide_banner",
      "-ss",
      frameSeconds.toFixed(3),
      "-i",
      "in",
      "-an",
      "-frames:v",
      1,
      "-c:v",
      "png",
      "-f",
      "image2",
      "out",
    ]).catch((error) => {
      throw new ProblemError(422, `Cannot read a video frame at ${frameSeconds} s: ${(error as Error).message}`);
    });
    if (frame.length === 0) throw new ProblemError(422, `Cannot read a video frame at ${frameSeconds} s: no video`);
    const audio = new Float32Array(clipLength);
    audio.set(samples.subarray(start, Math.min(samples.length, start + clipLength)));
    pairs.push({ startSeconds, frameSeconds, audio, frame });
  }
  return pairs;
}
