/**
 * Mutation fuzzer for the public API (`deno task fuzz`).
 *
 * Starts the service on 127.0.0.1 as a child process (the `start` task's
 * permissions), mutates real corpus files and videos made from them
 * (`scripts/shared/seed_inputs.ts`: MP4, WebM, MOV) (bit flips, byte runs,
 * truncation, splices, header field overwrites, duplicated regions) and
 * posts each result to `/v1/embed`. Anything that is not a 200 or a 4xx
 * problem+json is a finding: a 5xx (500 worker failure, 504 deadline), a
 * hang past the deadline, a malformed answer, or a crashed process. Each
 * finding's input is saved with a JSON note so it can become a regression
 * fixture (`tests/fixtures/regressions/`). Exits 1 when it found anything.
 *
 * `--target batch` posts `/v1/batch` instead: each input is 1-6 mutated files (some empty, some repeated),
 * as multipart parts or JSON base64 items (now and then one malformed), and every tenth input is one of the
 * structural cases of `scripts/shared/hostile_batches.ts` (1,000 empty items, wrong types, nested junk,
 * over the bounds, ...). A 5xx, an item 5xx, an item answered out of order or not at all, or a hang is a
 * finding.
 *
 * ```sh
 * deno task fuzz --count 2000 --seconds 600 --seed 7
 * deno task fuzz --seed 13 --from 20500 --count 21200   # replay inputs 20,500-21,200 of a run
 * deno task fuzz --target batch --count 300 --seed 5
 * ```
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createHash } from "node:crypto";
import { join, resolve } from "node:path";
import { REPO_ROOT } from "../lib/config.ts";
import { type LocalServer, startLocalServer } from "./shared/local_server.ts";
import { fuzzSeeds, random, type SeedInput } from "./shared/seed_inputs.ts";
import {
  type BatchCase,
  jsonBatch,
  judgeBatch,
  multipartBatch,
  readAnswer,
  structuralBatchCases,
  toBase64,
} from "./shared/hostile_batches.ts";
import { encodeWav } from "../lib/media/encode_wav.ts";

/** A mutation: a name for the report and a function of the input (and a second input, for splices). */
interface Mutator {
  name: string;
  apply(bytes: Uint8Array, rand: () => number, other: Uint8Array): Uint8Array;
}

/** Values that break parsers when written into size, count and rate fields. */
const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff];

const int = (rand: () => number, n: number) => Math.floor(rand() * n);

/** A position biased towards the start, where headers live. */
function headerBiased(rand: () => number, length: number): number {
  return rand() < 0.5 ? int(rand, Math.min(length, 128)) : int(rand, length);
}

/** The mutations, each small and composable. */
export const MUTATORS: Mutator[] = [
  {
    name: "bitflip",
    apply(bytes, rand) {
      const out = bytes.slice();
      for (let i = 1 + int(rand, 8); i > 0; i--) {
        const at = headerBiased(rand, out.length);
        out[at] = out[at]! ^ (1 << int(rand, 8));
      }
      return out;
    },
  },
  {
    name: "byterun",
    apply(bytes, rand) {
      const out = bytes.slice();
      const at = headerBiased(rand, out.length);
      const length = Math.min(out.length - at, 1 + int(rand, 256));
      const fill = [0x00, 0xff, int(rand, 256), -1][int(rand, 4)]!;
      for (let i = 0; i < length; i++) out[at + i] = fill < 0 ? int(rand, 256) : fill;
      return out;
    },
  },
  {
    name: "truncate",
    apply(bytes, rand) {
      return bytes.slice(0, Math.max(1, headerBiased(rand, bytes.length)));
    },
  },
  {
    name: "splice",
    apply(bytes, rand, other) {
      // The head of one file with the tail of another, or a piece of another inserted.
      const cut = int(rand, bytes.length);
      if (rand() < 0.5) {
        const from = int(rand, other.length);
        const out = new Uint8Array(cut + other.length - from);
        out.set(bytes.subarray(0, cut));
        out.set(other.subarray(from), cut);
        return out;
      }
      const piece = other.subarray(int(rand, other.length), int(rand, other.length) + 512);
      const out = new Uint8Array(bytes.length + piece.length);
      out.set(bytes.subarray(0, cut));
      out.set(piece, cut);
      out.set(bytes.subarray(cut), cut + piece.length);
      return out;
    },
  },
  {
    name: "field",
    apply(bytes, rand) {
      // Overwrite a 1-, 2- or 4-byte field in the first 128 bytes with a boundary value.
      const out = bytes.slice();
      const width = [1, 2, 4][int(rand, 3)]!;
      const at = int(rand, Math.max(1, Math.min(out.length, 128) - width));
      const value = INTERESTING[int(rand, INTERESTING.length)]!;
      const view = new DataView(out.buffer);
      if (at + width > out.length) return out;
      const little = rand() < 0.5;
      if (width === 1) view.setUint8(at, value & 0xff);
      else if (width === 2) view.setUint16(at, value & 0xffff, little);
      else view.setUint32(at, value >>> 0, little);
      return out;
    },
  },
  {
    name: "duplicate",
    apply(bytes, rand) {
      // Repeat one region many times (chunk and frame parsers loop over these).
      const from = headerBiased(rand, bytes.length);
      const region = bytes.subarray(from, from + 1 + int(rand, 64));
      const times = 1 + int(rand, 200);
      const out = new Uint8Array(bytes.length + region.length * times);
      out.set(bytes.subarray(0, from));
      for (let i = 0; i < times; i++) out.set(region, from + i * region.length);
      out.set(bytes.subarray(from), from + times * region.length);
      return out;
    },
  },
];

/** What happened to one input. */
type Verdict =
  | { ok: true; status: number; items?: Record<string, number> }
  | { ok: false; kind: "5xx" | "hang" | "crash" | "malformed"; status?: number; detail: string };

/** POSTs with a deadline: the response, or the verdict when none came (a hang or a dropped connection). */
async function send(url: string, init: RequestInit, waitMs: number): Promise<Response | Verdict> {
  try {
    return await fetch(url, { ...init, method: "POST", signal: AbortSignal.timeout(waitMs) });
  } catch (error) {
    const name = error instanceof Error ? error.name : "";
    if (name === "TimeoutError") return { ok: false, kind: "hang", detail: `no answer within ${waitMs} ms` };
    return { ok: false, kind: "crash", detail: `connection failed: ${error}` };
  }
}

async function post(url: string, body: Uint8Array, waitMs: number): Promise<Verdict> {
  const res = await send(url, { body: new Uint8Array(body) }, waitMs);
  if (!(res instanceof Response)) return res;
  const { text, type, json, detail } = await readAnswer(res);
  if (res.status >= 500) return { ok: false, kind: "5xx", status: res.status, detail };
  const expected = res.status === 200 ? "application/json" : "application/problem+json";
  if (!json || type !== expected || (res.status !== 200 && json.status !== res.status)) {
    return { ok: false, kind: "malformed", status: res.status, detail: `${type}: ${text.slice(0, 200)}` };
  }
  return { ok: true, status: res.status };
}

/** Posts one batch and judges it with `judgeBatch` (the items' own statuses included). */
async function postBatch(url: string, c: BatchCase, waitMs: number): Promise<Verdict> {
  const body = c.body instanceof Uint8Array ? new Uint8Array(c.body) : c.body;
  const res = await send(url, { body, headers: c.headers }, waitMs);
  if (!(res instanceof Response)) return res;
  const verdict = await judgeBatch(res, c);
  if (verdict.ok) return { ok: true, status: verdict.status, items: verdict.items };
  return {
    ok: false,
    kind: verdict.kind === "5xx" ? "5xx" : "malformed",
    status: verdict.status,
    detail: verdict.detail,
  };
}

/** Items per fuzzed batch, at most (the service's default bound is 32; fewer keeps each input quick). */
const BATCH_ITEMS = 6;

/**
 * One fuzzed batch from mutated files: some empty, some repeated, as multipart or JSON (one item's base64
 * sometimes broken).
 */
function fuzzedBatch(items: Uint8Array[], rand: () => number): BatchCase {
  const chosen = items.map((bytes, i) => {
    const roll = rand();
    if (roll < 0.1) return new Uint8Array(0);
    if (roll < 0.2 && i > 0) return items[int(rand, i)]!;
    return bytes;
  });
  if (rand() < 0.5) return { name: "multipart", body: multipartBatch(chosen), headers: {}, items: chosen.length };
  const body = JSON.parse(jsonBatch(chosen) as string) as { items: { data: string }[] };
  if (rand() < 0.2) {
    // Break one item's base64: a character outside the alphabet, or a length no encoder writes.
    const item = body.items[int(rand, body.items.length)]!;
    const at = int(rand, item.data.length + 1);
    item.data = item.data.slice(0, at) + (rand() < 0.5 ? "!" : "A") + item.data.slice(at);
  }
  return {
    name: "json",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json" },
    items: chosen.length,
  };
}

const EXTENSIONS: Record<string, string> = {
  jpeg: "jpg",
  png: "png",
  webp: "webp",
  gif: "gif",
  avif: "avif",
  heic: "heic",
  tiff: "tif",
  wav: "wav",
  aiff: "aif",
  mp3: "mp3",
  ogg: "ogg",
  flac: "flac",
  m4a: "m4a",
  webm: "webm",
  mp4: "mp4",
  mov: "mov",
};

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      count: { type: "string", default: "500" },
      seconds: { type: "string", default: "300" },
      seed: { type: "string", default: "1" },
      "deadline-ms": { type: "string", default: "10000" },
      from: { type: "string", default: "1" },
      out: { type: "string", default: ".cache/fuzz/findings" },
      target: { type: "string", default: "embed" },
    },
  });
  const count = Number(values.count);
  const seconds = Number(values.seconds);
  const seed = Number(values.seed);
  const deadlineMs = Number(values["deadline-ms"]);
  const from = Number(values.from);
  const out = resolve(REPO_ROOT, values.out!);
  const target = values.target;
  if (![count, seconds, seed, deadlineMs, from].every(Number.isFinite) || !["embed", "batch"].includes(target!)) {
    console.error(
      "usage: deno task fuzz [--count N] [--seconds S] [--seed K] [--deadline-ms MS] [--from N] [--out DIR] " +
        "[--target embed|batch]",
    );
    Deno.exit(2);
  }

  console.error(`fuzz: preparing seed inputs (seed ${seed}) ...`);
  const seeds: SeedInput[] = await fuzzSeeds({ seed });
  const env = { AMODAL_REQUEST_TIMEOUT_MS: String(deadlineMs) };
  let server: LocalServer = await startLocalServer(env);
  const url = () => `${server.url}/v1/embed?space=encoder`;
  // The structural batch cases around two seed files and a WAV whose header contradicts itself.
  const structural = structuralBatchCases({
    valid: [seeds.find((s) => s.format === "wav")!.bytes, seeds.find((s) => s.modality === "image")!.bytes],
    maxItems: 32,
    maxBodyBytes: 25_000_000,
    inconsistentWav: (() => {
      const wav = encodeWav(new Float32Array(8000), 16000);
      new DataView(wav.buffer).setUint16(32, 0, true); // block align 0
      new DataView(wav.buffer).setUint16(34, 7, true); // 7 bits per sample
      return wav;
    })(),
  });
  let structuralNext = 0;
  console.error(`fuzz: ${seeds.length} seeds, service at ${server.url}, up to ${count} inputs or ${seconds} s`);

  const rand = random(seed);
  const rssStart = server.rss();
  const started = performance.now();
  const statuses: Record<string, number> = {};
  /** Batch items' own statuses (`--target batch`). */
  const itemStatuses: Record<string, number> = {};
  const findings: string[] = [];
  let tried = 0;
  let rssEnd: number | undefined;
  try {
    while (tried < count && performance.now() - started < seconds * 1000) {
      const mutated = () => {
        const base = seeds[int(rand, seeds.length)]!;
        const other = seeds[int(rand, seeds.length)]!;
        const chain: string[] = [];
        let bytes = base.bytes;
        for (let k = 1 + int(rand, 3); k > 0; k--) {
          const mutator = MUTATORS[int(rand, MUTATORS.length)]!;
          chain.push(mutator.name);
          bytes = mutator.apply(bytes, rand, other.bytes);
          if (bytes.length === 0) bytes = base.bytes.slice(0, 1);
        }
        return { base, other, chain, bytes };
      };
      const { base, other, chain, bytes } = mutated();
      // A batch: this input and up to five more, or (every tenth input) one of the structural cases.
      const batchItems = target === "batch"
        ? [bytes, ...Array.from({ length: int(rand, BATCH_ITEMS) }, () => mutated().bytes)]
        : [];
      const batch = target !== "batch"
        ? undefined
        : tried % 10 === 9
        ? structural[structuralNext++ % structural.length]!
        : fuzzedBatch(batchItems, rand);
      // Only batches draw this number, so the embed target replays older runs input for input.
      const op = target === "batch" && rand() < 0.5 ? "embed&space=encoder" : "classify";
      tried++;
      // `--from N` replays a run from its Nth input: the inputs before it are made (the PRNG must advance) but not sent.
      if (tried < from) continue;
      const rssBefore = server.rss();
      const verdict = batch
        ? await postBatch(
          `${server.url}/v1/batch?op=${op}`,
          batch,
          deadlineMs * Math.ceil(Math.max(1, batch.items ?? 1) / 2) + 10_000,
        )
        : await post(url(), bytes, deadlineMs + 10_000);
      const rssAfter = server.rss();
      /** Keeps the input and how it was made under `out`, as `<kind>-<hash>.<ext>` and a `.json` note. */
      const save = async (kind: string, note: Record<string, unknown>): Promise<string> => {
        const hash = createHash("sha256").update(bytes).digest("hex").slice(0, 12);
        const file = join(out, `${kind}-${hash}.${EXTENSIONS[base.format] ?? "bin"}`);
        await Deno.mkdir(out, { recursive: true });
        await Deno.writeFile(file, bytes);
        const made = batch
          ? {
            seed,
            input: tried,
            target,
            batch: batch.name,
            // The items as sent (before the JSON form's base64 damage), to rebuild the request.
            items: batch.name === "multipart" || batch.name === "json" ? batchItems.map(toBase64) : undefined,
          }
          : { seed, input: tried, base: base.name, other: other.name, mutations: chain };
        await Deno.writeTextFile(`${file}.json`, JSON.stringify({ ...note, ...made }, null, 2) + "\n");
        return file;
      };
      const grewMiB = rssBefore === undefined || rssAfter === undefined ? 0 : (rssAfter - rssBefore) / 2 ** 20;
      if (grewMiB > 100) {
        // Not a finding (WASM heaps grow to the largest input and stay), but worth knowing which inputs do it.
        const answer = verdict.ok ? verdict.status : verdict.kind;
        const file = await save("memory", { answer, rssGrowthMiB: Math.round(grewMiB) });
        console.error(`fuzz: input ${tried} -> ${answer}, RSS +${Math.round(grewMiB)} MiB -> ${file}`);
      }
      const key = verdict.ok ? String(verdict.status) : verdict.kind;
      statuses[key] = (statuses[key] ?? 0) + 1;
      if (verdict.ok && verdict.items) {
        for (const [status, n] of Object.entries(verdict.items)) itemStatuses[status] = (itemStatuses[status] ?? 0) + n;
      }
      if (tried % 100 === 0) {
        const memory = rssAfter === undefined ? "" : `, RSS ${Math.round(rssAfter / 2 ** 20)} MiB`;
        console.error(`fuzz: ${tried} inputs, ${JSON.stringify(statuses)}${memory}`);
      }
      if (verdict.ok) continue;

      // A finding: keep the input and how it was made.
      const file = await save(verdict.kind, { ...verdict, stderr: server.stderrTail() });
      findings.push(file);
      console.error(`fuzz: FINDING ${verdict.kind} ${verdict.status ?? ""} ${verdict.detail.slice(0, 160)} -> ${file}`);
      if (verdict.kind === "crash" || verdict.kind === "hang" || server.exited()) {
        // The process died or stopped answering: start a fresh one and go on.
        await server.stop();
        server = await startLocalServer(env);
      }
    }
    rssEnd = server.rss();
  } finally {
    await server.stop();
  }
  const elapsed = (performance.now() - started) / 1000;
  const mib = (bytes: number | undefined) => bytes === undefined ? null : Math.round(bytes / 2 ** 20);
  const summary = {
    inputs: tried,
    seconds: Math.round(elapsed),
    seed,
    target,
    statuses,
    ...(target === "batch" ? { itemStatuses } : {}),
    findings: findings.length,
    // The service's resident memory when fuzzing began and ended (a restart after a crash resets it).
    rssMiB: { start: mib(rssStart), end: mib(rssEnd) },
    out,
  };
  console.log(JSON.stringify(summary));
  console.error(
    findings.length === 0
      ? `fuzz: ${tried} inputs in ${elapsed.toFixed(0)} s, no 5xx, hang, crash or malformed answer`
      : `fuzz: ${findings.length} finding(s) in ${tried} inputs; inputs saved under ${out}`,
  );
  Deno.exit(findings.length === 0 ? 0 : 1);
}
