/**
 * Compressed-audio decoding (and test-fixture encoding) with ffmpeg compiled
 * to WebAssembly (`@ffmpeg/core` 0.12, single-threaded, GPL-2.0-or-later).
 *
 * The module is compiled once per isolate (each Worker has its own) and a
 * core instantiated from it (0.3–0.4 s the first time) is reused while runs
 * succeed: `exec` runs the ffmpeg CLI synchronously and can
 * be called again. After a *failed* run the core is dropped and the next call
 * loads a fresh one: measured here, a few failed runs in a row (bad input,
 * timeout) left the core so that a later, valid run trapped with "memory
 * access out of bounds". A run that traps is retried once on a fresh core; a
 * trap on a fresh core is blamed on the input. A core whose heap has grown
 * past {@linkcode MAX_HEAP_BYTES} (wasm memory never shrinks) is replaced too.
 * `exec` blocks the event loop while it runs, which is why the service
 * decodes inside Workers.
 *
 * @module
 */

import createFFmpegCore from "@ffmpeg/core";
import { ProblemError } from "../errors.ts";
import { MAX_RESAMPLE_RATE, MIN_RESAMPLE_RATE } from "./resample.ts";
import type { PcmAudio } from "./wav.ts";

/** The subset of the Emscripten module that @ffmpeg/core exposes and we use. */
interface FfmpegCore {
  exec(...args: string[]): number;
  ffprobe(...args: string[]): number;
  reset(): void;
  setLogger(logger: (entry: { type: string; message: string }) => void): void;
  setTimeout(ms: number): void;
  FS: {
    writeFile(path: string, data: Uint8Array): void;
    readFile(path: string): Uint8Array;
    unlink(path: string): void;
    filesystems: { MEMFS: Memfs };
  };
  HEAPU8: Uint8Array;
}

/** Emscripten's in-memory file system, where ffmpeg writes its output. */
interface Memfs {
  expandFileStorage(node: MemfsNode, capacity: number): void;
}

/** A file in {@linkcode Memfs}: its storage and how much of it is written. */
interface MemfsNode {
  contents: Uint8Array | null;
  usedBytes: number;
}

/**
 * Makes a core's in-memory files grow by doubling. Emscripten grows a file past 1 MiB by 1/8 at a time,
 * each step a new array and a copy: writing 30 s of 48 kHz stereo float (11.5 MB) allocated ~100 MB of
 * arrays, garbage that stayed until V8 collected, most of the transient memory of a compressed-audio
 * decode. Doubling allocates at most twice the final size in all.
 */
function growFilesByDoubling(core: FfmpegCore): void {
  core.FS.filesystems.MEMFS.expandFileStorage = (node, capacity) => {
    const previous = node.contents?.length ?? 0;
    if (previous >= capacity) return;
    const grown = new Uint8Array(Math.max(capacity, previous * 2, 256));
    if (node.contents && node.usedBytes > 0) grown.set(node.contents.subarray(0, node.usedBytes));
    node.contents = grown;
  };
}

/** A core whose heap has grown past this is replaced after the run. */
export const MAX_HEAP_BYTES = 512 * 1024 * 1024;

/**
 * A core kept between jobs holds at most this much heap (its initial heap is 32 MiB); a larger one is
 * dropped by {@linkcode releaseGrownCore}. Decoding a 4K video grows it to ~55 MiB for good.
 */
export const IDLE_HEAP_BYTES = 40 * 1024 * 1024;

/** The isolate's core, how many runs it has done, and its heap after the last one. */
let current: { core: Promise<FfmpegCore>; runs: number; heapBytes: number } | undefined;

/**
 * The isolate's compiled ffmpeg module. Compiled once and shared by every
 * core: compiling the 32 MB module per core cost ~60 MB of machine code each
 * time, and replaced cores' code lingered until a major GC (RSS grew by
 * ~60 MB per replacement in a FLAC loop).
 */
let compiled: Promise<WebAssembly.Module> | undefined;

/**
 * Whether this isolate has compiled ffmpeg.wasm (~100 MB resident once loaded), for `/healthz`.
 *
 * @returns True after the first compressed-audio decode or encode.
 */
export function ffmpegLoaded(): boolean {
  return compiled !== undefined;
}

function compile(): Promise<WebAssembly.Module> {
  const wasmUrl = new URL("ffmpeg-core.wasm", import.meta.resolve("@ffmpeg/core"));
  const promise = Deno.readFile(wasmUrl).then((bytes) => WebAssembly.compile(bytes));
  promise.catch(() => {
    if (compiled === promise) compiled = undefined;
  });
  return promise;
}

/**
 * The core's Emscripten glue reads `self.location.href` once, while it is
 * instantiated, because it believes it runs in a Web Worker. Deno's main
 * thread has no `location` (without `--location`), so a placeholder is
 * installed for exactly that synchronous call and removed again; Deno
 * Workers already have one and keep it.
 */
async function instantiate(): Promise<FfmpegCore> {
  const module = await (compiled ??= compile());
  // Emscripten's hook: instantiate the shared module instead of compiling the bytes again.
  const instantiateWasm = (
    imports: WebAssembly.Imports,
    receive: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void,
  ) => {
    WebAssembly.instantiate(module, imports).then((instance) => receive(instance, module));
    return {};
  };
  const saved = Object.getOwnPropertyDescriptor(globalThis, "location");
  const g = globalThis as { location?: unknown };
  let hasLocation = true;
  try {
    hasLocation = g.location !== undefined;
  } catch {
    hasLocation = false;
  }
  if (!hasLocation) {
    Object.defineProperty(globalThis, "location", {
      value: { href: import.meta.url },
      configurable: true,
      writable: true,
    });
  }
  try {
    const core = await (createFFmpegCore as (options: object) => Promise<FfmpegCore>)({ instantiateWasm });
    growFilesByDoubling(core);
    return core;
  } finally {
    if (!hasLocation) {
      if (saved) Object.defineProperty(globalThis, "location", saved);
      else delete g.location;
    }
  }
}

/** The isolate's core, loading one when there is none. */
function acquire(): NonNullable<typeof current> {
  if (!current) {
    const loading = { core: instantiate(), runs: 0, heapBytes: 0 };
    loading.core.catch(() => {
      if (current === loading) current = undefined;
    });
    current = loading;
  }
  return current;
}

/** Forgets `entry` so that the next run loads a fresh core. */
function discard(entry: { core: Promise<FfmpegCore> }): void {
  if (current === entry) current = undefined;
}

/**
 * Drops the isolate's ffmpeg core if a run grew its heap past `maxBytes`, so that the memory is given back
 * (WebAssembly memory never shrinks; the old core's heap is freed when a collection finds it unreachable,
 * so call `gc()` after a `true`). The next decode loads a fresh core from the compiled module (tens of ms).
 * Call it between jobs: a run already under way keeps the core it holds.
 *
 * @param maxBytes Heap a core may keep. @default {IDLE_HEAP_BYTES}
 * @returns Whether a core was dropped.
 *
 * @example
 * ```ts
 * if (releaseGrownCore()) gc();
 * ```
 */
export function releaseGrownCore(maxBytes: number = IDLE_HEAP_BYTES): boolean {
  if (!current || current.heapBytes <= maxBytes) return false;
  current = undefined;
  return true;
}

/**
 * A core is replaced after this many runs: long-lived cores were seen to
 * corrupt ffprobe reports, and in a FLAC loop every core's 321st run failed.
 */
const MAX_RUNS_PER_CORE = 200;

function isJson(bytes: Uint8Array): boolean {
  try {
    JSON.parse(new TextDecoder().decode(bytes));
    return true;
  } catch {
    return false;
  }
}

/** Outcome of one ffmpeg or ffprobe command line. */
type RunResult =
  | { ok: true; output: Uint8Array; log: string[] }
  | { ok: false; log: string[]; timedOut: boolean }
  | { ok: false; log: string[]; trap: Error };

/**
 * Runs one ffmpeg (or ffprobe) command line with `input` as the file `in`,
 * returning the bytes the tool wrote to `out` and its log.
 */
async function run(
  input: Uint8Array,
  args: (string | number)[],
  timeoutMs: number,
  tool: "exec" | "ffprobe" = "exec",
  extra: Record<string, Uint8Array> = {},
): Promise<RunResult> {
  for (let attempt = 0;; attempt++) {
    const entry = acquire();
    const ffmpeg = await entry.core;
    const fresh = entry.runs++ === 0;
    const result = runOn(ffmpeg, tool, input, args.map(String), timeoutMs, extra);
    // ffprobe runs with `-v error`: anything it logged means it hit an error.
    const complained = tool === "ffprobe" && result.log.some((line) => line.trim() !== "");
    // After some hundreds of runs a core's ffprobe can write a garbled report; treat it like a trap.
    const garbled = tool === "ffprobe" && result.ok && !isJson(result.output);
    const worn = entry.runs >= MAX_RUNS_PER_CORE;
    entry.heapBytes = ffmpeg.HEAPU8.byteLength;
    if (!result.ok || complained || garbled || worn || ffmpeg.HEAPU8.byteLength > MAX_HEAP_BYTES) discard(entry);
    // A trap or garbled report on a core that had run before may be the previous runs' fault: retry once.
    if (((!result.ok && "trap" in result) || garbled) && !fresh && attempt === 0) continue;
    if (garbled) return { ok: false, log: [...result.log, "error: unreadable stream report"], timedOut: false };
    return result;
  }
}

function runOn(
  ffmpeg: FfmpegCore,
  tool: "exec" | "ffprobe",
  input: Uint8Array,
  args: string[],
  timeoutMs: number,
  extra: Record<string, Uint8Array> = {},
): RunResult {
  const log: string[] = [];
  ffmpeg.setLogger(({ message }) => log.push(message));
  // ffmpeg checks this deadline between packets and aborts the run.
  ffmpeg.setTimeout(timeoutMs);
  const started = performance.now();
  try {
    ffmpeg.FS.writeFile("in", input);
    for (const [name, bytes] of Object.entries(extra)) ffmpeg.FS.writeFile(name, bytes);
    const code = ffmpeg[tool](...args);
    // ffprobe leaves the exit code at -1 even on success: judge it by its report
    // (written even when probing failed; the caller reads the log then).
    let output: Uint8Array | undefined;
    try {
      output = ffmpeg.FS.readFile("out");
    } catch { /* not written */ }
    if ((tool === "exec" && code !== 0) || !output) {
      return { ok: false, log, timedOut: performance.now() - started >= timeoutMs };
    }
    return { ok: true, output, log };
  } catch (error) {
    return { ok: false, log, trap: error instanceof Error ? error : new Error(String(error)) };
  } finally {
    try {
      ffmpeg.reset();
      for (const path of ["in", "out", ...Object.keys(extra)]) {
        try {
          ffmpeg.FS.unlink(path);
        } catch { /* not created */ }
      }
    } catch { /* a trapped core is discarded anyway */ }
  }
}

/** Why a run failed, for a client: e.g. "Invalid data found when processing input". */
function reason(result: Exclude<RunResult, { ok: true }>, timeoutMs: number): string {
  if ("trap" in result) return `the decoder crashed on this input (${result.trap.message})`;
  if (result.timedOut) return `decoding took longer than ${timeoutMs} ms`;
  // ffmpeg's progress and summary lines ("size=", "video:0kB audio:0kB ... muxing overhead") say nothing about
  // the input; its stream banners neither.
  const noise = /muxing overhead|^size=|^Output file is empty|^Stream mapping|^(Input|Output|Stream) #|^Press /;
  const lines = result.log.map((l) => l.trim()).filter((l) =>
    l && !l.startsWith("Aborted(") && l !== "Conversion failed!" && !noise.test(l)
  );
  const telling = lines.filter((l) =>
    /invalid|error|could not|does not contain|no such|not supported|unknown|failed|end of file/i.test(l)
  );
  const line = telling.at(-1) ?? lines.at(-1);
  if (!line) return "no audio could be decoded: the data is corrupt or cut short";
  // Drop ffmpeg's "[component @ 0x...]" prefixes, the input's name and "Error while decoding stream #0:0: ".
  const said = line.replace(/^\[[^\]]*\]\s*/, "").replace(/^in: /, "").replace(
    /^Error while decoding stream[^:]*:\d+: /,
    "",
  )
    .slice(0, 200);
  const plain = PLAIN_REASONS.find(([pattern]) => pattern.test(said))?.[1];
  return plain ? `${plain} (decoder: ${said})` : said;
}

/** ffmpeg's messages in plain words, for the common failures. */
const PLAIN_REASONS: [RegExp, string][] = [
  [/invalid data|invalid residual|decode_frame|end of file|truncat|partial file/i, "the data is corrupt or cut short"],
  [/does not contain any stream|matches no streams/i, "the file holds no audio stream"],
  [/not supported|unknown codec|decoder .* not found|could not find codec/i, "its codec is not supported"],
];

/** What ffprobe reports about the first audio stream. */
interface Probe {
  sampleRate: number;
  channels: number;
  /** Container duration in seconds, when stated. */
  duration: number | null;
}

function parseProbe(json: Uint8Array): Probe | null {
  const report = JSON.parse(new TextDecoder().decode(json)) as {
    streams?: { sample_rate?: string; channels?: number }[];
    format?: { duration?: string };
  };
  const stream = report.streams?.[0];
  if (!stream) return null;
  const duration = Number(report.format?.duration);
  return {
    sampleRate: Number(stream.sample_rate),
    channels: stream.channels ?? 0,
    duration: Number.isFinite(duration) && duration > 0 ? duration : null,
  };
}

/**
 * Decodes the first audio stream of anything ffmpeg understands (MP3, Ogg
 * Vorbis/Opus, FLAC, AAC/M4A, WebM/Matroska and MP4 audio tracks, WAV
 * encodings outside the fast path) to planar float at its own rate.
 *
 * Downmixing and resampling are left to `downmix()` and `resample()`, as
 * for WAV, so that every format goes through the same filter. ffprobe runs
 * first for the stream's rate, channel count and duration; ffmpeg is then
 * told to keep exactly that rate and channel count, which makes a stream
 * that changes format midway come out converted rather than garbled.
 *
 * @param bytes The encoded file.
 * @param options `maxSeconds` (default 30) of audio to decode; `timeoutMs`
 *   (default 20000) after which ffmpeg gives up.
 * @returns Channels, rate, full duration and whether the audio was cut.
 * @throws {ProblemError} 422 when ffmpeg cannot decode the input, finds no
 *   audio stream, or runs out of time; the detail carries ffmpeg's reason.
 *
 * @example
 * ```ts
 * const { channels, sampleRate } = await decodeWithFfmpeg(await Deno.readFile("a.mp3"), { maxSeconds: 10 });
 * ```
 */
export async function decodeWithFfmpeg(
  bytes: Uint8Array,
  options: { maxSeconds?: number; timeoutMs?: number } = {},
): Promise<PcmAudio> {
  const maxSeconds = options.maxSeconds ?? 30;
  const timeoutMs = options.timeoutMs ?? 20_000;
  const probed = await run(
    bytes,
    [
      "-v",
      "error",
      "-select_streams",
      "a:0",
      "-show_entries",
      "stream=sample_rate,channels:format=duration",
      "-of",
      "json",
      "-o",
      "out",
      "in",
    ],
    timeoutMs,
    "ffprobe",
  );
  if (!probed.ok) throw new ProblemError(422, `Cannot decode audio: ${reason(probed, timeoutMs)}`);
  const probe = parseProbe(probed.output);
  if (!probe) {
    const why = probed.log.some((line) => line.trim() !== "")
      ? reason({ ok: false, log: probed.log, timedOut: false }, timeoutMs)
      : "the input has no audio stream";
    throw new ProblemError(422, `Cannot decode audio: ${why}`);
  }
  const { sampleRate, channels } = probe;
  if (!(sampleRate >= MIN_RESAMPLE_RATE && sampleRate <= MAX_RESAMPLE_RATE) || !(channels >= 1 && channels <= 64)) {
    throw new ProblemError(422, `Cannot decode audio: unsupported stream (${sampleRate} Hz, ${channels} channels)`);
  }

  // Decode a little past the limit so "exactly maxSeconds long" and "longer" can be told apart.
  const decoded = await run(bytes, [
    "-hide_banner",
    "-i",
    "in",
    "-map",
    "0:a:0",
    "-t",
    maxSeconds + 0.25,
    "-ac",
    channels,
    "-ar",
    sampleRate,
    "-f",
    "f32le",
    "out",
  ], timeoutMs);
  if (!decoded.ok) throw new ProblemError(422, `Cannot decode audio: ${reason(decoded, timeoutMs)}`);
  const frames = Math.floor(decoded.output.byteLength / (4 * channels));
  if (frames === 0) throw new ProblemError(422, "Cannot decode audio: no audio samples in the input");
  const maxFrames = Math.ceil(maxSeconds * sampleRate);
  const kept = Math.min(frames, maxFrames);
  // A float view needs a 4-byte aligned start; the output read from ffmpeg's file system has one, so no copy
  // (30 s of 48 kHz stereo is 11.5 MB).
  const out = decoded.output;
  const interleaved = out.byteOffset % 4 === 0
    ? new Float32Array(out.buffer, out.byteOffset, frames * channels)
    : new Float32Array(out.slice(0, frames * 4 * channels).buffer);
  const planar = Array.from({ length: channels }, (_, c) => {
    const out = new Float32Array(kept);
    for (let f = 0; f < kept; f++) out[f] = interleaved[f * channels + c]!;
    return out;
  });
  return {
    channels: planar,
    sampleRate,
    durationSeconds: probe.duration ?? frames / sampleRate,
    truncated: frames > maxFrames || (probe.duration !== null && probe.duration > maxSeconds + 0.01),
  };
}

/** Formats {@linkcode encodeAudio} writes: [encoder, muxer]. */
const ENCODINGS = {
  mp3: ["libmp3lame", "mp3"],
  ogg: ["libvorbis", "ogg"],
  opus: ["libopus", "ogg"],
  flac: ["flac", "flac"],
  m4a: ["aac", "ipod"], // the ipod muxer writes the "M4A " brand
  mp4: ["aac", "mp4"], // generic "isom" brand, as video files carry
  aac: ["aac", "adts"],
  webm: ["libopus", "webm"],
} as const;

/** Formats {@linkcode encodeAudio} can write. */
export type EncodableFormat = keyof typeof ENCODINGS;

/**
 * Encodes float audio, so tests and dataset tools can make MP3, Ogg, FLAC,
 * etc. without shipping binary fixtures.
 *
 * @param audio Mono samples, or planar channels of equal length, in [-1, 1].
 * @param sampleRate Their rate in Hz (Opus input is resampled to 48 kHz by ffmpeg).
 * @param format Output format.
 * @returns The encoded file.
 *
 * @example
 * ```ts
 * const mp3 = await encodeAudio(new Float32Array(44100), 44100, "mp3");
 * ```
 */
export async function encodeAudio(
  audio: Float32Array | readonly Float32Array[],
  sampleRate: number,
  format: EncodableFormat,
): Promise<Uint8Array> {
  const channels = audio instanceof Float32Array ? [audio] : audio;
  const frames = channels[0]?.length ?? 0;
  if (channels.length === 0 || channels.some((c) => c.length !== frames)) {
    throw new RangeError("Cannot encode: give one or more channels of equal length");
  }
  const interleaved = new Float32Array(frames * channels.length);
  channels.forEach((channel, c) => {
    for (let f = 0; f < frames; f++) interleaved[f * channels.length + c] = channel[f]!;
  });
  const [codec, muxer] = ENCODINGS[format];
  return await runFfmpeg(new Uint8Array(interleaved.buffer), [
    "-f",
    "f32le",
    "-ar",
    sampleRate,
    "-ac",
    channels.length,
    "-i",
    "in",
    "-c:a",
    codec,
    "-f",
    muxer,
    "out",
  ]).catch((error: Error) => {
    throw new Error(`Cannot encode ${format}: ${error.message}`);
  });
}

/**
 * Runs one ffmpeg command line on `input` (visible to ffmpeg as the file
 * `in`) and returns what it wrote to the file `out`. For dataset tools that
 * need more than audio decoding, e.g. a video frame at a time
 * (`scripts/dataset/video_pairs.ts`) or a lavfi test video.
 *
 * @param input Bytes of the input file (may be empty when the command line uses lavfi sources).
 * @param args ffmpeg arguments, e.g. `["-ss", 1.5, "-i", "in", "-frames:v", 1, "-c:v", "png", "-f", "image2", "out"]`.
 * @param timeoutMs Deadline ffmpeg checks between packets. @default 60000
 * @param extraInputs More input files by name (e.g. `{ "in2": wav }` to mux a picture and a sound; test fixtures).
 * @returns The bytes of `out`.
 * @throws {ProblemError} 422 naming ffmpeg's reason when the run fails.
 *
 * @example
 * ```ts
 * const png = await runFfmpeg(video, ["-ss", 2, "-i", "in", "-frames:v", 1, "-c:v", "png", "-f", "image2", "out"]);
 * ```
 */
export async function runFfmpeg(
  input: Uint8Array,
  args: (string | number)[],
  timeoutMs = 60_000,
  extraInputs: Record<string, Uint8Array> = {},
): Promise<Uint8Array> {
  const result = await run(input, args, timeoutMs, "exec", extraInputs);
  if (!result.ok) throw new ProblemError(422, `ffmpeg failed: ${reason(result, timeoutMs)}`);
  return result.output;
}

/**
 * Runs one ffprobe command line on `input` (visible as the file `in`; the report must be written to `out`
 * with `-o out`) and returns the report, for stream facts {@linkcode decodeWithFfmpeg} does not read
 * (`lib/media/video.ts`: which streams a container holds, frame size, duration).
 *
 * @param input Bytes of the file to probe.
 * @param args ffprobe arguments, e.g. `["-v", "error", "-show_streams", "-of", "json", "-o", "out", "in"]`.
 * @param timeoutMs Deadline ffprobe checks between packets. @default 20000
 * @returns The report's bytes (JSON with `-of json`).
 * @throws {ProblemError} 422 naming ffprobe's reason when it writes no report.
 *
 * @example
 * ```ts
 * const json = await runFfprobe(video, ["-v", "error", "-show_streams", "-of", "json", "-o", "out", "in"]);
 * ```
 */
export async function runFfprobe(
  input: Uint8Array,
  args: (string | number)[],
  timeoutMs = 20_000,
): Promise<Uint8Array> {
  const result = await run(input, args, timeoutMs, "ffprobe");
  if (!result.ok) throw new ProblemError(422, `ffprobe failed: ${reason(result, timeoutMs)}`);
  return result.output;
}
