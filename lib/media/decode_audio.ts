/**
 * Any supported audio file -> mono 16 kHz float samples for the audio encoders.
 *
 * WAV and AIFF/AIFF-C with integer PCM or float samples take the fast path
 * (our readers, no ffmpeg start-up); everything else, including WAV and
 * AIFF-C encodings the fast paths do not handle (A-law, µ-law, ADPCM), is
 * decoded by ffmpeg at its own
 * rate. Both then go through the same `downmix()` (channel average) and
 * `resample()` (band-limited, to 16 kHz), so a recording gives the same
 * samples whatever format it arrives in.
 *
 * @module
 */

import { ProblemError } from "../errors.ts";
import { decodeWithFfmpeg } from "./ffmpeg.ts";
import { downmix, MODEL_SAMPLE_RATE, resample } from "./resample.ts";
import { decodeAiff, isFastPathAiff, readAiffHeader } from "./aiff.ts";
import { type AudioFormat, sniff } from "./sniff.ts";
import { AUDIO_FORMAT_NAMES } from "./formats.ts";
import { decodeWav, isFastPathWav, readWavHeader } from "./wav.ts";

/** Options of {@linkcode decodeAudio}. */
export interface DecodeAudioOptions {
  /** The format if already sniffed; sniffed from the bytes otherwise. */
  format?: AudioFormat;
  /** Decode at most this many seconds from the start. @default {30} */
  maxSeconds?: number;
}

/** Audio ready for an encoder. */
export interface DecodedAudio {
  /** Mono samples at 16 kHz, clamped to [-1, 1], at most `maxSeconds` long. */
  samples: Float32Array;
  /** Always 16000. */
  sampleRate: number;
  /** Duration of the whole input, in seconds. */
  durationSeconds: number;
  /** True when the input is longer than `maxSeconds` and only its start was decoded. */
  truncated: boolean;
}

/**
 * Decodes an audio file to mono 16 kHz.
 *
 * @param bytes The file as uploaded.
 * @param options Format (if known) and `maxSeconds`.
 * @returns Samples plus the input's duration and whether it was truncated.
 * @throws {ProblemError} 415 when the bytes are not a recognised audio
 *   format, 422 when they cannot be decoded or hold no audio.
 *
 * @example
 * ```ts
 * const { samples, durationSeconds, truncated } = await decodeAudio(await Deno.readFile("cello.flac"));
 * ```
 */
export async function decodeAudio(bytes: Uint8Array, options: DecodeAudioOptions = {}): Promise<DecodedAudio> {
  const maxSeconds = options.maxSeconds ?? 30;
  if (!(maxSeconds > 0)) throw new RangeError(`maxSeconds must be positive, got ${maxSeconds}`);
  let format = options.format;
  if (format === undefined) {
    const sniffed = sniff(bytes);
    if (sniffed?.modality !== "audio") {
      throw new ProblemError(
        415,
        `Not a supported audio format (${describe(bytes, sniffed?.format)}); audio: ${AUDIO_FORMAT_NAMES}`,
      );
    }
    format = sniffed.format;
  }

  let pcm;
  if (format === "wav" && isFastPathWav(readWavHeader(bytes))) pcm = decodeWav(bytes, { maxSeconds });
  else if (format === "aiff" && isFastPathAiff(readAiffHeader(bytes))) pcm = decodeAiff(bytes, { maxSeconds });
  else pcm = await decodeWithFfmpeg(bytes, { maxSeconds });
  const samples = resample(downmix(pcm.channels), pcm.sampleRate, MODEL_SAMPLE_RATE);
  // ceil(maxSeconds * rate) input frames can round to one sample past the limit.
  const limit = Math.round(maxSeconds * MODEL_SAMPLE_RATE);
  const decoded: DecodedAudio = {
    samples: samples.length > limit ? samples.subarray(0, limit) : samples,
    sampleRate: MODEL_SAMPLE_RATE,
    durationSeconds: pcm.durationSeconds,
    truncated: pcm.truncated,
  };
  // Float sources and the resampler's ringing can leave [-1, 1]; the encoders assume it.
  const s = decoded.samples;
  for (let i = 0; i < s.length; i++) {
    const v = s[i]!;
    if (v > 1) s[i] = 1;
    else if (v < -1) s[i] = -1;
  }
  return decoded;
}

function describe(bytes: Uint8Array, imageFormat: string | undefined): string {
  if (imageFormat) return `got a ${imageFormat} image`;
  const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
  return bytes.length === 0 ? "empty body" : `first bytes ${head}`;
}
