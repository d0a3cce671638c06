/**
 * Videos: an MP4, MOV or WebM/Matroska file with a video track becomes its audio track (16 kHz mono,
 * as any audio) and a few frames spread over the same span (encoder-sized RGB, as any photo), so both
 * encoders hear and see the same performance. Everything runs on the service's ffmpeg.wasm
 * (`ffmpeg.ts`) and the photos' own decoder (`decode_image.ts`); nothing new is loaded.
 *
 * Steps of {@linkcode decodeVideo}:
 *
 * 1. Only containers that can hold video are looked at (`mp4`, `mov`, `webm` from `sniff.ts`; `m4a`
 *    never). ffprobe lists the streams; a file without a video stream (cover art does not count) is not a
 *    video, and the caller decodes it as audio exactly as before.
 * 2. The duration the container declares (the longest of the file's and its streams') over
 *    `maxVideoSeconds` is refused with a 422 before anything is decoded: a 10-hour header on a small file
 *    is a lie or a file too long to sample fairly.
 * 3. The audio track, when there is one, is decoded by `decode_audio.ts` over the first `maxSeconds`
 *    (the audio limit); a track that does not decode is reported missing, with the decoder's reason.
 * 4. `frames` frames (5) at the centres of equal parts of that same span (the whole clip when shorter;
 *    one frame at 0 s for a one-frame video; a container that declares no duration, as a browser's live
 *    WebM, is measured by its decoded sound, or else by its last video packet) are decoded one by one with an input seek (only the
 *    packets from the previous keyframe are decoded), cropped and resized by ffmpeg's filters exactly as
 *    `preprocess_image.ts` crops and resizes a photo (central crop, linear resize to the encoder's input),
 *    and written as raw RGB: sharp is not needed in the worker that decodes a video.
 *    A frame larger than `maxPixels` (the image limit, read from the stream header) is not decoded at
 *    all; a frame that does not decode is skipped and counted.
 * 5. A video with neither a decodable audio track nor a decodable frame is a 422; with one of them it is
 *    answered from what it has, and `missing` / `notes` say what is absent and why.
 *
 * @module
 */
import { ProblemError } from "../errors.ts";
import { decodeAudio, type DecodedAudio } from "./decode_audio.ts";
import type { DecodedImage } from "./decode_image.ts";
import { runFfmpeg, runFfprobe } from "./ffmpeg.ts";
import { sniff } from "./sniff.ts";

/** Containers that may hold a video track. */
export type VideoFormat = "mp4" | "mov" | "webm";

/** One decoded frame. */
export interface VideoFrame {
  /** Where in the video it was taken, seconds. */
  seconds: number;
  /** The frame preprocessed as a photo would be. */
  image: DecodedImage;
}

/** A decoded video: what the encoders take, and what could not be had. */
export interface DecodedVideo {
  modality: "video";
  format: VideoFormat;
  /** The audio track, undefined when the file has none or it does not decode (see `missing`, `notes`). */
  audio?: DecodedAudio;
  /** Frames in time order; empty when none decoded (see `missing`, `notes`). */
  frames: VideoFrame[];
  /** Duration the container declares, seconds (null when it declares none). */
  durationSeconds: number | null;
  /** Width and height of the video stream as its header states them. */
  width: number;
  /** See `width`. */
  height: number;
  /** Modalities the answer lacks: `audio` without a decodable audio track, `image` without a decodable frame. */
  missing: ("audio" | "image")[];
  /** Why something is missing or partial, in plain words. */
  notes: string[];
}

/** Options of {@linkcode decodeVideo}. */
export interface DecodeVideoOptions {
  /** Audio limit: the span analysed, from the start, seconds. @default {30} */
  maxSeconds?: number;
  /** Longest declared duration taken at all, seconds. @default {600} */
  maxVideoSeconds?: number;
  /** Image limit: frames with more pixels than this are not decoded. @default {40e6} */
  maxPixels?: number;
  /** Encoder input side and central crop, as for photos. @default {{size: 224, centralFraction: 0.875}} */
  image?: { size: number; centralFraction: number };
  /** Frames to take. @default {5} */
  frames?: number;
  /** Time for probing and frame extraction together, ms; frames not reached by then are skipped. @default {20000} */
  timeoutMs?: number;
}

const CONTAINERS: ReadonlySet<string> = new Set<VideoFormat>(["mp4", "mov", "webm"]);

/**
 * Whether the bytes are in a container that may hold video (and so are worth probing for it).
 *
 * @param bytes The upload, or its first bytes.
 * @returns The container format, or undefined.
 *
 * @example
 * ```ts
 * videoContainer(mp4Bytes); // "mp4"
 * videoContainer(m4aBytes); // undefined: audio-only brand
 * ```
 */
export function videoContainer(bytes: Uint8Array): VideoFormat | undefined {
  const kind = sniff(bytes);
  return kind?.modality === "audio" && CONTAINERS.has(kind.format) ? kind.format as VideoFormat : undefined;
}

/** What ffprobe says about a container. */
export interface VideoProbe {
  /** The first video stream that is not an attached picture, when there is one. */
  video?: { index: number; codec: string; width: number; height: number; frames: number | null };
  /** Whether there is an audio stream. */
  hasAudio: boolean;
  /** The longest duration the file or any stream declares, seconds; null when none does. */
  durationSeconds: number | null;
}

interface ProbeReport {
  streams?: {
    index?: number;
    codec_type?: string;
    codec_name?: string;
    width?: number;
    height?: number;
    nb_frames?: string;
    duration?: string;
    disposition?: { attached_pic?: number };
  }[];
  format?: { duration?: string };
}

/**
 * Lists a container's streams with ffprobe.
 *
 * @param bytes The file.
 * @param timeoutMs ffprobe's deadline. @default 20000
 * @returns The video stream (if any), whether audio is there, the declared duration; undefined when ffprobe
 *   cannot read the file at all.
 *
 * @example
 * ```ts
 * const probe = await probeVideo(await Deno.readFile("clip.mp4"));
 * probe?.video?.width; // 640
 * ```
 */
export async function probeVideo(bytes: Uint8Array, timeoutMs = 20_000): Promise<VideoProbe | undefined> {
  let report: ProbeReport;
  try {
    report = await ffprobeJson<ProbeReport>(bytes, [
      "-show_entries",
      "stream=index,codec_type,codec_name,width,height,nb_frames,duration:stream_disposition=attached_pic:" +
      "format=duration",
    ], timeoutMs);
  } catch {
    return undefined;
  }
  const streams = report.streams ?? [];
  const video = streams.find((s) => s.codec_type === "video" && s.disposition?.attached_pic !== 1);
  const durations = [report.format?.duration, ...streams.map((s) => s.duration)]
    .map(Number).filter((d) => Number.isFinite(d) && d > 0);
  const frames = Number(video?.nb_frames);
  return {
    ...(video && video.index !== undefined
      ? {
        video: {
          index: video.index,
          codec: video.codec_name ?? "unknown",
          width: video.width ?? 0,
          height: video.height ?? 0,
          frames: Number.isInteger(frames) && frames > 0 ? frames : null,
        },
      }
      : {}),
    hasAudio: streams.some((s) => s.codec_type === "audio"),
    durationSeconds: durations.length ? Math.max(...durations) : null,
  };
}

/**
 * Times of `count` frames at the centres of equal parts of `[0, span)`.
 *
 * @param span Seconds sampled.
 * @param count Frames wanted.
 * @returns Times in seconds, rounded to ms; `[0]` for an empty span.
 *
 * @example
 * ```ts
 * frameTimes(10, 5); // [1, 3, 5, 7, 9]
 * ```
 */
export function frameTimes(span: number, count: number): number[] {
  if (!(span > 0) || count <= 1) return [span > 0 && count === 1 ? Math.round(span * 500) / 1000 : 0];
  return Array.from({ length: count }, (_, k) => Math.round(span * (k + 0.5) / count * 1000) / 1000);
}

/**
 * Decodes a video's audio track and a few frames.
 *
 * @param bytes The file as uploaded.
 * @param options Limits (audio span, declared duration, pixels), image geometry, frame count, time.
 * @returns The decoded video, or undefined when the file holds no video stream (decode it as audio) or
 *   ffprobe cannot read it (the audio decoder then answers with its own 422).
 * @throws {ProblemError} 422 when the declared duration is over `maxVideoSeconds`, or when neither the audio
 *   track nor any frame decodes.
 *
 * @example
 * ```ts
 * const video = await decodeVideo(await Deno.readFile("violin.mp4"));
 * video?.frames.length; // 5
 * ```
 */
export async function decodeVideo(
  bytes: Uint8Array,
  options: DecodeVideoOptions = {},
): Promise<DecodedVideo | undefined> {
  const format = videoContainer(bytes);
  if (!format) return undefined;
  const maxSeconds = options.maxSeconds ?? 30;
  const maxVideoSeconds = options.maxVideoSeconds ?? 600;
  const maxPixels = options.maxPixels ?? 40e6;
  const { size, centralFraction } = options.image ?? { size: 224, centralFraction: 0.875 };
  const deadline = performance.now() + (options.timeoutMs ?? 20_000);
  const left = () => Math.max(1, Math.round(deadline - performance.now()));

  // 1.
  const probe = await probeVideo(bytes, left());
  if (!probe?.video) return undefined;
  const { video } = probe;
  // 2.
  const declared = probe.durationSeconds;
  if (declared !== null && declared > maxVideoSeconds) {
    throw new ProblemError(
      422,
      `Video declares ${round3(declared)} s, over the limit of ${maxVideoSeconds} s for videos; nothing was decoded`,
      { extensions: { limit: maxVideoSeconds, seconds: round3(declared) } },
    );
  }
  const missing: DecodedVideo["missing"] = [];
  const notes: string[] = [];

  // 3.
  let audio: DecodedAudio | undefined;
  if (!probe.hasAudio) {
    missing.push("audio");
    notes.push("the file has no audio track");
  } else {
    try {
      audio = await decodeAudio(bytes, { format, maxSeconds });
    } catch (error) {
      if (!(error instanceof ProblemError) || error.status >= 500) throw error;
      missing.push("audio");
      notes.push(`the audio track did not decode: ${error.message.replace(/^Cannot decode audio: /, "")}`);
    }
  }

  // 4.
  const frames: VideoFrame[] = [];
  const pixels = video.width * video.height;
  if (pixels > maxPixels) {
    notes.push(
      `frames are ${video.width}x${video.height} = ${pixels} pixels, over the image limit of ${maxPixels}: ` +
        "none was decoded",
    );
  } else {
    // Live WebM (a browser's MediaRecorder) declares no duration: take the decoded sound's, or the packets' times.
    const known = declared ?? (audio ? audio.samples.length / audio.sampleRate : await lastPacketSeconds(
      bytes,
      video.index,
      maxSeconds,
      left(),
    ));
    const span = Math.min(known ?? maxSeconds, maxSeconds);
    const times = frameTimes(video.frames === 1 ? 0 : span, Math.min(options.frames ?? 5, video.frames ?? Infinity));
    const frameGeometry = { size, centralFraction, width: video.width, height: video.height };
    let failed = 0;
    let lastError = "";
    for (const seconds of times) {
      if (deadline - performance.now() < 50) {
        notes.push(`frame decoding ran out of time after ${frames.length} of ${times.length} frames`);
        break;
      }
      try {
        frames.push({
          seconds,
          image: await decodeFrame(bytes, video.index, seconds, frameGeometry, left()),
        });
      } catch (error) {
        if (!(error instanceof ProblemError) || error.status >= 500) throw error;
        failed++;
        lastError = error.message;
      }
    }
    // A stream whose declared times are off (or a seek past its last frame) may still have a first frame.
    if (frames.length === 0 && !times.includes(0) && deadline - performance.now() >= 50) {
      try {
        frames.push({
          seconds: 0,
          image: await decodeFrame(bytes, video.index, 0, frameGeometry, left()),
        });
        failed = times.length;
      } catch (error) {
        if (!(error instanceof ProblemError) || error.status >= 500) throw error;
        lastError = error.message;
      }
    }
    if (frames.length === 0) notes.push(`no frame of the ${video.codec} video stream decoded${reasonOf(lastError)}`);
    else if (failed > 0) notes.push(`${failed} of ${times.length} frames did not decode${reasonOf(lastError)}`);
  }
  if (frames.length === 0) missing.push("image");

  // 5.
  if (!audio && frames.length === 0) {
    throw new ProblemError(422, `Cannot decode video: ${notes.join("; ")}`);
  }
  return {
    modality: "video",
    format,
    ...(audio ? { audio } : {}),
    frames,
    durationSeconds: declared === null ? null : round3(declared),
    width: video.width,
    height: video.height,
    missing,
    notes,
  };
}

/**
 * Time of the last packet of a stream within the first `maxSeconds` (demuxing only, nothing is decoded), for
 * containers that declare no duration; null when ffprobe lists none.
 */
async function lastPacketSeconds(
  bytes: Uint8Array,
  stream: number,
  maxSeconds: number,
  timeoutMs: number,
): Promise<number | null> {
  try {
    const report = await ffprobeJson<{ packets?: { pts_time?: string }[] }>(bytes, [
      "-select_streams",
      String(stream),
      "-read_intervals",
      `%+${maxSeconds}`,
      "-show_entries",
      "packet=pts_time",
    ], timeoutMs);
    let last: number | null = null;
    for (const packet of report.packets ?? []) {
      const t = Number(packet.pts_time);
      if (Number.isFinite(t) && t >= 0 && (last === null || t > last)) last = t;
    }
    return last;
  } catch {
    return null;
  }
}

/**
 * One frame at `seconds`, preprocessed as a photo is (`preprocess_image.ts`: the central crop of `centralFraction` of
 * each side, then a linear resize of that box to `size` x `size`, 8-bit RGB HWC), but by ffmpeg's own filters
 * (`crop`, `scale`, `rawvideo`): the frames never reach sharp, so an inference worker that decodes a video does not
 * load a second sharp-wasm (~66 MB and four pthread isolates per worker, measured under the adversarial burst).
 */
async function decodeFrame(
  bytes: Uint8Array,
  stream: number,
  seconds: number,
  geometry: { size: number; centralFraction: number; width: number; height: number },
  timeoutMs: number,
): Promise<DecodedImage> {
  const { size, centralFraction: f } = geometry;
  // tf.image.central_crop's box, as the photos' preprocessing cuts it (centred: crop's default x and y).
  const crop = `crop=w='iw-2*trunc((iw-iw*${f})/2)':h='ih-2*trunc((ih-ih*${f})/2)'`;
  const raw = await runFfmpeg(bytes, [
    "-hide_banner",
    "-ss",
    seconds.toFixed(3),
    "-i",
    "in",
    "-map",
    `0:${stream}`,
    "-frames:v",
    1,
    "-vf",
    `${crop},scale=${size}:${size}:flags=bilinear+accurate_rnd+full_chroma_int`,
    "-pix_fmt",
    "rgb24",
    "-f",
    "rawvideo",
    "out",
  ], timeoutMs);
  if (raw.length === 0) throw new ProblemError(422, `no frame at ${seconds} s`);
  if (raw.length !== size * size * 3) {
    throw new ProblemError(422, `the frame at ${seconds} s decoded to ${raw.length} bytes, not ${size}x${size} RGB`);
  }
  return { pixels: raw, width: geometry.width, height: geometry.height };
}

/** ffprobe's JSON report of `entries` (its `-show_entries` and stream selection arguments). */
async function ffprobeJson<T>(bytes: Uint8Array, entries: (string | number)[], timeoutMs: number): Promise<T> {
  const json = await runFfprobe(bytes, ["-v", "error", ...entries, "-of", "json", "-o", "out", "in"], timeoutMs);
  return JSON.parse(new TextDecoder().decode(json)) as T;
}

/** ffmpeg's or the image decoder's reason, without their prefixes; its progress lines say nothing. */
function reasonOf(message: string): string {
  const said = message.replace(/^ffmpeg failed: /, "").replace(/^Cannot decode image: /, "");
  if (!said) return "";
  // ffmpeg's progress lines, and an empty output (the packets at that time did not decode), say only that.
  if (/^frame=|no audio could be decoded|^no frame at /.test(said)) return " (the stream is corrupt or cut short)";
  return ` (${said})`;
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
