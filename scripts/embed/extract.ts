/**
 * Stage 1 of `deno task train`: encoder embeddings for every dataset item (plus augmented views
 * of the training splits), computed in parallel workers with the service's own decode ->
 * preprocess -> encoder -> pooling code, and cached on disk.
 *
 * Cache layout, one folder per encoder: `<cacheRoot>/<encoder>-<sha8>/` where sha8 hashes the
 * converted graph, the encoder card and {@linkcode AUGMENT_VERSION}, so a new graph or new
 * augmentation code never mixes with old rows. Per split (`role`): `<role>.f32` (float32 rows,
 * `dim` each) and `<role>.jsonl` (one row description per line: id, label, modality, domain,
 * group, source, view; view 0 is the original item). `meta.json` holds `dim` and the encoder.
 * With `withScores` (embeddings of an encoder that has class scores) the folder is
 * `<encoder>+scores-<sha8>/` and also holds `<role>.scores.f32`: the encoder's window-mean class
 * scores of the same rows from the same run (`scoresDim` each, in `meta.json`), which the
 * zero-shot priors of the training recipe read.
 * Re-running skips rows already present (resumable); a torn last batch is cut off on start.
 *
 * @module
 */
import type { ExtractMessage, ExtractOutput, ExtractReply } from "../../lib/worker/protocol.ts";
import { join } from "node:path";
import { type DatasetRoots, itemPath, type ManifestItem } from "../dataset/manifest.ts";
import type { EncoderCard } from "../../lib/encoders/card.ts";
import { sha256Hex } from "../../lib/joint/artifact.ts";
import { logMelStatsDim } from "./log_mel_stats.ts";
import { audioPreprocess } from "../../lib/features/encoder_input.ts";
import { createRandom } from "../shared/random.ts";
import { SOURCE_VIEW_BASE } from "./augment_source.ts";

/**
 * The Web Worker constructor, captured when this module loads: sharp's WASM glue replaces
 * `globalThis.Worker` with node:worker_threads' Worker when it loads in this thread, and such a
 * worker has no `self`.
 */
const WebWorker = globalThis.Worker;

/** Bump when augmentation code changes what a view contains. */
export const AUGMENT_VERSION = "aug-1";

/**
 * Part of the cache key. "rows-2": folders written before the flush fix (concurrent flushes could
 * write a batch twice to the index but not to the rows, shifting every later row's label) are not
 * read again.
 */
const CACHE_LAYOUT = "rows-2";

/** Splits that get embeddings, in processing order. */
export const ROLES = [
  "translation-train",
  "translation-val",
  "retrieval",
  "classify-train",
  "classify-test",
  "heldout",
] as const;

/** Splits whose items also get augmented views. */
export const TRAIN_ROLES: ReadonlySet<string> = new Set(["translation-train", "classify-train"]);

/** One dataset item to embed (a manifest item with its absolute path). */
export interface EmbedItem {
  id: string;
  /** Absolute or cwd-relative file path. */
  file: string;
  split: string;
  modality: "audio" | "image";
  label: string;
  domain: string;
  group: string;
  source: string;
}

/**
 * Turns dataset manifest items into extraction items with resolved file paths.
 *
 * @param items Manifest items.
 * @param roots The dataset roots `itemPath` resolves against.
 * @returns One {@linkcode EmbedItem} per manifest item.
 */
export function toEmbedItems(items: readonly ManifestItem[], roots: DatasetRoots): EmbedItem[] {
  return items.map((i) => ({
    id: i.id,
    file: itemPath(i, roots),
    split: i.split,
    modality: i.modality,
    label: i.label,
    domain: i.domain,
    group: i.group,
    source: i.source,
  }));
}

/**
 * Number of classes in an encoder's class-names file (`.csv` with a header line, or one name a line).
 *
 * @param path The labels file the card's `outputs.scores.labels` names (in the weights folder).
 * @returns The class count, the width of a `scores` row.
 */
export async function countClasses(path: string): Promise<number> {
  const lines = (await Deno.readTextFile(path)).split("\n").filter((l) => l.trim() !== "");
  return path.endsWith(".csv") ? lines.length - 1 : lines.length;
}

/** Options for {@linkcode extractEmbeddings}. */
export interface ExtractOptions {
  /** Items of the encoder's modality (others are ignored). */
  items: EmbedItem[];
  /** The encoder: card and converted ONNX path. */
  encoder: { card: EncoderCard; onnxPath: string };
  /** Folder holding the per-encoder cache folders (`.cache/embeddings`). */
  cacheRoot: string;
  /** Augmented views per training-split item (0: originals only). */
  views: number;
  /**
   * Views of the second family (`augment_source.ts`: polyphony, time stretch, band-limit, codec)
   * per training-split item, numbered from `SOURCE_VIEW_BASE + 1` (101). @default {0}
   */
  sourceViews?: number;
  /** Seed mixed into every view's random stream. */
  seed: number;
  /** Parallel workers (one ONNX thread each). @default {2} */
  workers?: number;
  /** Progress lines. @default {console.log} */
  log?: (line: string) => void;
  /**
   * What a row holds: the encoder embedding, the encoder's own class scores (needs
   * `scoresDim`), or the non-learned log-mel statistics baseline (`scripts/embed/log_mel_stats.ts`,
   * audio; no graph is run). Other outputs get their own cache folder. @default {"embedding"}
   */
  output?: ExtractOutput;
  /** Row width for `output: "scores"` or `withScores` (classes in the card's labels file). */
  scoresDim?: number;
  /**
   * With `output: "embedding"`: also store the encoder's window-mean class scores per row
   * (`<role>.scores.f32`, `scoresDim` wide) from the same encoder run. @default {false}
   */
  withScores?: boolean;
  /** Splits to process. @default {ROLES} */
  roles?: readonly string[];
  /** A job without an answer after this long is skipped and its worker replaced. @default {120000} */
  jobTimeoutMs?: number;
}

/** A worker did not answer a job in time. */
class JobTimeout extends Error {}

/** What {@linkcode extractEmbeddings} did. */
export interface ExtractResult {
  /** The encoder's cache folder. */
  dir: string;
  dim: number;
  /** Rows per role after the run. */
  rows: Record<string, number>;
  /** Rows computed in this run, and how long it took. */
  computed: number;
  seconds: number;
  /** Items that could not be embedded (path: reason). */
  failed: string[];
}

interface Job {
  role: string;
  item: EmbedItem;
  view: number;
}

/**
 * The item whose sound a view of the second family mixes in (polyphony): another training-split
 * item of the same label and source, chosen reproducibly from `seedKey` among them in id order.
 *
 * @param item The item being augmented.
 * @param items Every item (only training-split items of the same modality, label and source count).
 * @param seedKey The view's seed key (`id#view#seed`).
 * @returns The partner, or undefined when the item is the only one of its label and source.
 */
export function polyphonyPartner(item: EmbedItem, items: readonly EmbedItem[], seedKey: string): EmbedItem | undefined {
  const same = items
    .filter((i) =>
      TRAIN_ROLES.has(i.split) && i.modality === item.modality && i.label === item.label &&
      i.source === item.source && i.id !== item.id
    )
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return same.length === 0 ? undefined : createRandom(`${seedKey}#partner`).pick(same);
}

/**
 * Embeds every item and view that the cache does not hold yet.
 *
 * @param opts Items, encoder, cache folder, views, seed, workers.
 * @returns The cache folder and counts.
 *
 * @example
 * ```ts
 * const r = await extractEmbeddings({ items, encoder: encoders.yamnet, cacheRoot: ".cache/embeddings", views: 4, seed: 1 });
 * ```
 */
export async function extractEmbeddings(opts: ExtractOptions): Promise<ExtractResult> {
  const { card, onnxPath } = opts.encoder;
  const log = opts.log ?? console.log;
  const output: ExtractOutput = opts.output ?? "embedding";
  const roles = opts.roles ?? ROLES;
  const dim = output === "embedding"
    ? card.outputs.embedding.dim
    : output === "log_mel_stats"
    ? logMelStatsDim(audioPreprocess(card).logMel!)
    : opts.scoresDim ?? NaN;
  if (!(dim > 0)) throw new RangeError(`extractEmbeddings: output "scores" needs scoresDim (got ${opts.scoresDim})`);
  const sdim = output === "embedding" && opts.withScores ? opts.scoresDim ?? NaN : 0;
  if (Number.isNaN(sdim) || sdim < 0) {
    throw new RangeError(`extractEmbeddings: withScores needs scoresDim (got ${opts.scoresDim})`);
  }
  const graph = await Deno.readFile(onnxPath);
  const variant = output === "embedding" ? (sdim ? "+scores" : "") : `-${output}`;
  const key = await sha256Hex(
    new Uint8Array([
      ...new TextEncoder().encode(JSON.stringify(card) + AUGMENT_VERSION + CACHE_LAYOUT + variant),
      ...graph,
    ]),
  );
  const dir = join(opts.cacheRoot, `${card.name}${variant}-${key.slice(0, 8)}`);
  await Deno.mkdir(dir, { recursive: true });
  const unlock = await lockDir(dir, log);
  try {
    return await fill(opts, dir, dim, sdim, output, roles, log);
  } finally {
    await unlock();
  }
}

/** The body of {@linkcode extractEmbeddings}, run while this process holds the folder's lock. */
async function fill(
  opts: ExtractOptions,
  dir: string,
  dim: number,
  sdim: number,
  output: ExtractOutput,
  roles: readonly string[],
  log: (line: string) => void,
): Promise<ExtractResult> {
  const { card, onnxPath } = opts.encoder;
  const meta = { encoder: card.name, output, dim, ...(sdim ? { scoresDim: sdim } : {}) };
  await Deno.writeTextFile(
    join(dir, "meta.json"),
    JSON.stringify({ ...meta, sha256: card.sha256, augment: AUGMENT_VERSION }, null, 2) + "\n",
  );

  const done = new Map<string, Set<string>>();
  const rows: Record<string, number> = {};
  const items = opts.items.filter((i) => i.modality === card.modality);
  for (const role of roles) {
    // Rows of items no longer in this split (the dataset was rebuilt) are dropped.
    const valid = new Set(items.filter((i) => i.split === role).map((i) => i.id));
    const files: [string, number][] = [["f32", dim], ...(sdim ? [["scores.f32", sdim] as [string, number]] : [])];
    const { keys, count } = await openRole(dir, role, files, valid);
    done.set(role, keys);
    rows[role] = count;
  }
  const jobs: Job[] = [];
  const sourceViews = Array.from({ length: opts.sourceViews ?? 0 }, (_, v) => SOURCE_VIEW_BASE + v + 1);
  for (const view of [0, ...Array.from({ length: opts.views }, (_, v) => v + 1), ...sourceViews]) {
    for (const role of roles) {
      if (view > 0 && !TRAIN_ROLES.has(role)) continue;
      for (const item of items) {
        if (item.split === role && !done.get(role)!.has(`${item.id}#${view}`)) jobs.push({ role, item, view });
      }
    }
  }
  const start = performance.now();
  const failed: string[] = [];
  if (jobs.length === 0) {
    log(`embed: ${card.name}: all ${Object.values(rows).reduce((a, b) => a + b, 0)} rows cached in ${dir}`);
    return { dir, dim, rows, computed: 0, seconds: 0, failed };
  }
  log(`embed: ${card.name}: ${jobs.length} rows to compute with ${opts.workers ?? 2} workers -> ${dir}`);

  const pending = new Map<string, { rows: string[]; data: Float32Array[]; scores: Float32Array[] }>(
    roles.map((r) => [r, { rows: [], data: [], scores: [] }]),
  );
  const pack = (rows: Float32Array[], width: number) => {
    const bytes = new Uint8Array(rows.length * width * 4);
    rows.forEach((e, i) => bytes.set(new Uint8Array(e.buffer, e.byteOffset, width * 4), i * width * 4));
    return bytes;
  };
  // Batches are taken synchronously (workers keep pushing while a write is awaited) and written
  // one after another, so the row file and its index always grow by the same rows in the same order.
  let writing = Promise.resolve();
  const flush = (role: string): Promise<void> => {
    const p = pending.get(role)!;
    if (p.rows.length === 0) return writing;
    const batchRows = p.rows, batchData = p.data, batchScores = p.scores;
    p.rows = [];
    p.data = [];
    p.scores = [];
    writing = writing.then(async () => {
      // Rows first, index second: a crash in between leaves extra rows that openRole() cuts off.
      await Deno.writeFile(join(dir, `${role}.f32`), pack(batchData, dim), { append: true });
      if (sdim) await Deno.writeFile(join(dir, `${role}.scores.f32`), pack(batchScores, sdim), { append: true });
      await Deno.writeTextFile(join(dir, `${role}.jsonl`), batchRows.join(""), { append: true });
      rows[role] = (rows[role] ?? 0) + batchRows.length;
    });
    return writing;
  };

  // Items by label and source, for the polyphony partners of the second family's views.
  const byLabelSource = new Map<string, EmbedItem[]>();
  for (const item of items) {
    const k = `${item.label}\u0000${item.source}`;
    if (!byLabelSource.has(k)) byLabelSource.set(k, []);
    byLabelSource.get(k)!.push(item);
  }
  const partnerOf = (item: EmbedItem, seedKey: string) =>
    polyphonyPartner(item, byLabelSource.get(`${item.label}\u0000${item.source}`) ?? [], seedKey);

  let next = 0, finished = 0, lastLog = performance.now();
  const workerCount = Math.max(1, Math.min(opts.workers ?? 2, jobs.length));
  const jobTimeoutMs = opts.jobTimeoutMs ?? 120_000;
  const runWorker = async () => {
    const spawn = async () => {
      const w = new WebWorker(new URL("./extract_worker.ts", import.meta.url), { type: "module" });
      await call(w, { type: "init", card, onnxPath, threads: 1, output, withScores: sdim > 0 });
      return w;
    };
    const call = (w: Worker, msg: ExtractMessage, timeoutMs = 0) =>
      new Promise<ExtractReply>((resolve, reject) => {
        const timer = timeoutMs ? setTimeout(() => reject(new JobTimeout()), timeoutMs) : undefined;
        w.onmessage = (e: MessageEvent<ExtractReply>) => {
          clearTimeout(timer);
          resolve(e.data);
        };
        w.onerror = (e) => {
          e.preventDefault();
          clearTimeout(timer);
          reject(new Error(`embedding worker failed: ${e.message}`));
        };
        w.postMessage(msg);
      });
    let worker = await spawn();
    try {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        const seedKey = `${job.item.id}#${job.view}#${opts.seed}`;
        const partner = job.view > SOURCE_VIEW_BASE ? partnerOf(job.item, seedKey) : undefined;
        const reply = await call(worker, {
          type: "job",
          key: seedKey,
          path: job.item.file,
          view: job.view,
          seedKey,
          ...(partner ? { mixPath: partner.file } : {}),
        }, jobTimeoutMs).catch(async (error) => {
          if (!(error instanceof JobTimeout)) throw error;
          // ffmpeg.wasm, after thousands of runs on one core, rarely loops inside a run where its own
          // deadline is not checked: the job is skipped and the worker replaced.
          worker.terminate();
          worker = await spawn();
          return { type: "error", key: seedKey, message: `${job.item.file}: no answer in ${jobTimeoutMs} ms` } as const;
        });
        if (reply.type === "ready") continue;
        if (reply.type === "error") {
          failed.push(reply.message);
          log(`embed: skipped ${reply.message}`);
        } else if (sdim && reply.scores?.length !== sdim) {
          throw new RangeError(`${job.item.file}: ${reply.scores?.length} class scores, expected ${sdim}`);
        } else {
          const { item } = job;
          const p = pending.get(job.role)!;
          p.data.push(reply.embedding);
          if (sdim) p.scores.push(reply.scores!);
          p.rows.push(
            JSON.stringify({
              id: item.id,
              label: item.label,
              modality: item.modality,
              domain: item.domain,
              group: item.group,
              source: item.source,
              view: job.view,
            }) + "\n",
          );
          if (p.rows.length >= 64) await flush(job.role);
        }
        finished++;
        if (performance.now() - lastLog > 10000) {
          lastLog = performance.now();
          const rate = finished / ((lastLog - start) / 1000);
          log(
            `embed: ${card.name} ${finished}/${jobs.length} (${rate.toFixed(1)} rows/s, ` +
              `${Math.round((jobs.length - finished) / rate)} s left)`,
          );
        }
      }
    } finally {
      worker.terminate();
    }
  };
  await Promise.all(Array.from({ length: workerCount }, runWorker));
  for (const role of roles) await flush(role);
  const seconds = (performance.now() - start) / 1000;
  log(`embed: ${card.name}: ${finished} rows in ${seconds.toFixed(1)} s (${(finished / seconds).toFixed(2)} rows/s)`);
  return { dir, dim, rows, computed: finished - failed.length, seconds, failed };
}

/**
 * Takes `<dir>/.lock` (holding this process id) so that two processes (say `deno task train` and
 * `deno task report`) never append to one cache folder at once; waits while a live process holds
 * it and takes over a lock whose process is gone (checked in /proc, so on Linux only).
 */
async function lockDir(dir: string, log: (line: string) => void): Promise<() => Promise<void>> {
  const path = join(dir, ".lock");
  for (let attempt = 0;; attempt++) {
    try {
      await Deno.writeTextFile(path, String(Deno.pid), { createNew: true });
      return async () => await Deno.remove(path).catch(() => {});
    } catch (error) {
      if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    }
    const pid = Number(await Deno.readTextFile(path).catch(() => ""));
    const alive = pid > 0 && await Deno.stat(`/proc/${pid}`).then(() => true, () => false);
    if (!alive) {
      await Deno.remove(path).catch(() => {});
      continue;
    }
    if (attempt % 12 === 0) log(`embed: waiting for process ${pid}, which is filling ${dir}`);
    await new Promise((r) => setTimeout(r, 5000));
  }
}

/**
 * Reads a role's index, cuts each row file (`[suffix, width]`: `<role>.<suffix>`) to match it,
 * drops rows whose item id is not in `valid`, and returns the cached keys.
 */
async function openRole(
  dir: string,
  role: string,
  files: [string, number][],
  valid: Set<string>,
): Promise<{ keys: Set<string>; count: number }> {
  const keys = new Set<string>();
  let text = "";
  try {
    text = await Deno.readTextFile(join(dir, `${role}.jsonl`));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  // A torn last line (crash mid-write) is dropped with its row.
  const lines = text.split("\n");
  const complete = lines.slice(0, -1);
  if (lines.at(-1) !== "") await Deno.writeTextFile(join(dir, `${role}.jsonl`), complete.map((l) => l + "\n").join(""));
  for (const line of complete) {
    const r = JSON.parse(line);
    keys.add(`${r.id}#${r.view}`);
  }
  for (const [suffix, dim] of files) {
    const f32 = join(dir, `${role}.${suffix}`);
    const want = complete.length * dim * 4;
    try {
      const size = (await Deno.stat(f32)).size;
      if (size < want) throw new Error(`Embedding cache ${f32} is shorter than its index; delete ${dir} and re-run`);
      if (size > want) await Deno.truncate(f32, want);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      if (want > 0) throw new Error(`Embedding cache ${f32} is missing; delete ${dir} and re-run`);
    }
  }
  const keep = complete.map((line, i) => [line, i] as const).filter(([line]) => valid.has(JSON.parse(line).id));
  if (keep.length < complete.length) {
    for (const [suffix, dim] of files) {
      const f32 = join(dir, `${role}.${suffix}`);
      const data = (await Deno.readFile(f32)).subarray(0, complete.length * dim * 4);
      const kept = new Uint8Array(keep.length * dim * 4);
      keep.forEach(([, i], k) => kept.set(data.subarray(i * dim * 4, (i + 1) * dim * 4), k * dim * 4));
      await Deno.writeFile(f32, kept);
    }
    await Deno.writeTextFile(join(dir, `${role}.jsonl`), keep.map(([line]) => line + "\n").join(""));
    keys.clear();
    for (const [line] of keep) {
      const r = JSON.parse(line);
      keys.add(`${r.id}#${r.view}`);
    }
  }
  return { keys, count: keep.length };
}
