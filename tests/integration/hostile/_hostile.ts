/**
 * Shared machinery of the hostile-input suites: valid seed files of every
 * supported format, deterministic mutations, and the one assertion every
 * hostile request must pass ("never 5xx, always an answer, valid JSON").
 *
 * @module
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeWav } from "../../../lib/media/encode_wav.ts";
import { encodeAiff } from "../../../scripts/shared/encode_aiff.ts";
import { encodeAudio } from "../../../lib/media/ffmpeg.ts";
import type { RunningService } from "../../../main.ts";
import { keepAlive, loadSharp } from "../../../lib/media/sharp.ts";
import { encodeImage } from "../../lib/media/_images.ts";
import { SHARED, startTestService } from "../http/_service.ts";
import { random } from "../../../scripts/shared/seed_inputs.ts";

/** A deterministic PRNG (mulberry32), so a failing case names a reproducible input. */
export { random };

/**
 * Per-request deadline of the hostile-suite services. Generous, because the
 * CPU is shared: a legitimate decode that is merely slow must not turn into a
 * 504 and look like a finding.
 */
export const DEADLINE_MS = 20_000;

/** Body limit of the hostile-suite services (small, so the 413 cases stay cheap). */
export const MAX_BODY_BYTES = 4_000_000;

/** Starts the one service a hostile test file runs against. */
export function startHostileService(): Promise<RunningService> {
  return startTestService({ requestTimeoutMs: DEADLINE_MS, maxBodyBytes: MAX_BODY_BYTES, workers: 1, queueSize: 8 });
}

/** One hostile request. */
export interface HostileCase {
  name: string;
  body: Uint8Array | BodyInit;
  headers?: Record<string, string>;
  /** Statuses this case may get; default: 200 or any 4xx. */
  expect?: number[];
  /**
   * The HTTP server itself may refuse this request before the app sees it
   * (e.g. an oversized header line): then any 4xx passes, with whatever body.
   */
  transport?: boolean;
}

/** What {@linkcode send} observed. */
export interface Outcome {
  status: number;
  detail: string;
}

/**
 * Posts one case and checks the invariants every answer must hold: it comes
 * back (the fetch is aborted at twice the deadline, so a hang fails instead of
 * blocking the suite), it is not a 5xx, its body is valid JSON with the right
 * content type, and errors are problem+json without paths or stacks.
 *
 * @returns Status and problem detail, for the caller's tally.
 */
export async function send(url: string, c: HostileCase): Promise<Outcome> {
  const res = await fetch(url, {
    method: "POST",
    body: c.body instanceof Uint8Array ? new Uint8Array(c.body) : c.body,
    headers: c.headers ?? {},
    signal: AbortSignal.timeout(2 * DEADLINE_MS),
  });
  const text = await res.text();
  const type = res.headers.get("content-type") ?? "";
  if (c.transport && res.status >= 400 && res.status < 500 && !type.includes("json")) {
    return { status: res.status, detail: text.slice(0, 120) };
  }
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(text);
  } catch {
    assert.fail(`${c.name}: ${res.status} body is not JSON: ${text.slice(0, 120)}`);
  }
  const detail = String(json.detail ?? "");
  const allowed = c.expect
    ? c.expect.includes(res.status)
    : res.status === 200 || (res.status >= 400 && res.status < 500);
  assert.ok(allowed, `${c.name}: got ${res.status} (${detail})`);
  if (res.status === 200) {
    assert.equal(type, "application/json", c.name);
    assert.ok(Array.isArray(json.embedding) || "label" in json, `${c.name}: 200 without a result`);
  } else {
    assert.equal(type, "application/problem+json", c.name);
    assert.equal(json.status, res.status, c.name);
    assert.equal(typeof json.title, "string", c.name);
    assert.equal(typeof json.type, "string", c.name);
    assert.ok(detail.length > 0, `${c.name}: problem without detail`);
    assert.doesNotMatch(
      detail,
      /\/work\/|\/home\/|file:\/\/|at .*\.(ts|js):\d/,
      `${c.name}: detail leaks a path or stack`,
    );
  }
  return { status: res.status, detail };
}

/**
 * Sends cases one after another (one worker: parallel requests would only
 * queue) and returns a status histogram; the first broken invariant throws.
 */
export async function sendAll(url: string, cases: HostileCase[]): Promise<Record<number, number>> {
  const histogram: Record<number, number> = {};
  for (const c of cases) {
    const { status } = await send(url, c);
    histogram[status] = (histogram[status] ?? 0) + 1;
  }
  return histogram;
}

/**
 * Cut points for truncation: the first header bytes densely (where parsers
 * branch), then fractions of the file, then the last bytes.
 */
export function cutPoints(length: number, rand: () => number, sampled = 6): number[] {
  const points = new Set<number>([1, 2, 4, 8, 12, 16, 24, 32, 44, 64, 128, 512, length - 1]);
  for (const f of [0.25, 0.5, 0.9]) points.add(Math.floor(length * f));
  for (let i = 0; i < sampled; i++) points.add(1 + Math.floor(rand() * (length - 1)));
  return [...points].filter((p) => p > 0 && p < length).sort((a, b) => a - b);
}

/** A copy of `bytes` with `count` random bytes XOR-ed with a random non-zero value, within `[from, to)`. */
export function flipBytes(
  bytes: Uint8Array,
  rand: () => number,
  count: number,
  from = 0,
  to = bytes.length,
): Uint8Array<ArrayBuffer> {
  const out = bytes.slice();
  for (let i = 0; i < count; i++) {
    const at = from + Math.floor(rand() * (Math.min(to, out.length) - from));
    out[at] = out[at]! ^ (1 + Math.floor(rand() * 255));
  }
  return out;
}

/** `length` random bytes that start with `magic` (bytes, or text as Latin-1). */
export function magicOnNoise(magic: Uint8Array | string, length: number, rand: () => number): Uint8Array<ArrayBuffer> {
  const head = typeof magic === "string" ? Uint8Array.from(magic, (ch) => ch.charCodeAt(0)) : magic;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = Math.floor(rand() * 256);
  out.set(head.subarray(0, length));
  return out;
}

/** Index of the first occurrence of an ASCII tag in `bytes`, or -1. */
export function indexOfTag(bytes: Uint8Array, tag: string, from = 0): number {
  outer: for (let i = from; i + tag.length <= bytes.length; i++) {
    for (let k = 0; k < tag.length; k++) if (bytes[i + k] !== tag.charCodeAt(k)) continue outer;
    return i;
  }
  return -1;
}

/** Resident set size of this process, in bytes (the service's workers are threads of it). */
export function rss(): number {
  return Deno.memoryUsage().rss;
}

/** A 1.5 s test signal: a rising tone plus a little noise, so every codec has something to encode. */
export function testSignal(rate: number, seconds = 1.5): Float32Array {
  const rand = random(7);
  const n = Math.round(rate * seconds);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    out[i] = 0.4 * Math.sin(2 * Math.PI * (300 + 400 * t) * t) + 0.05 * (rand() - 0.5);
  }
  return out;
}

/** Audio formats of the suite (the service's list). */
export const AUDIO_FORMATS = ["wav", "aiff", "mp3", "ogg", "flac", "m4a", "webm"] as const;
/** Image formats of the suite (the service's list). */
export const IMAGE_FORMATS = ["jpeg", "png", "webp", "gif", "avif", "heic", "tiff"] as const;

/** One valid file per audio format, made here (no binary fixtures). */
export async function validAudio(): Promise<Record<(typeof AUDIO_FORMATS)[number], Uint8Array>> {
  const rate = 22050;
  const signal = testSignal(rate);
  return {
    wav: encodeWav(signal, rate),
    aiff: encodeAiff({ channels: [signal], sampleRate: rate }),
    mp3: await encodeAudio(signal, rate, "mp3"),
    ogg: await encodeAudio(signal, rate, "ogg"),
    flac: await encodeAudio(signal, rate, "flac"),
    m4a: await encodeAudio(signal, rate, "m4a"),
    webm: await encodeAudio(signal, rate, "webm"),
  };
}

/**
 * One valid 200x150 file per image format: a corpus photo (real texture, so
 * the compressed data is not trivially small) re-encoded with sharp-wasm.
 */
export async function validImages(): Promise<Record<(typeof IMAGE_FORMATS)[number], Uint8Array>> {
  const dir = join(SHARED, "corpus/images/gpiosenka/violin");
  const name = [...Deno.readDirSync(dir)].map((e) => e.name).sort()[0]!;
  const sharp = await loadSharp();
  const raw = { width: 200, height: 150, channels: 3 } as const;
  const pixels = await keepAlive(
    sharp(await Deno.readFile(join(dir, name))).resize(raw.width, raw.height, { fit: "fill" }).removeAlpha().raw()
      .toBuffer(),
  );
  const out = {} as Record<(typeof IMAGE_FORMATS)[number], Uint8Array>;
  // Copies: the buffers sharp hands back may be views into memory it reuses.
  for (const format of IMAGE_FORMATS) {
    // sharp-wasm writes no HEVC: the HEIC is Nokia's simplest conformance file (one 1280x720 item).
    out[format] = format === "heic"
      ? await Deno.readFile(join(SHARED, "fixtures/heic/C002.heic"))
      : (await encodeImage(new Uint8Array(pixels), raw, format)).slice();
  }
  return out;
}
