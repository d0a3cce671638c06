/**
 * Per-patch YAMNet rows for frame-level training and for fine-tuning YAMNet's last blocks (issue 17):
 * every original audio item (view 0) of every split, cut into the service's 0.96 s patches by the
 * service's own front end, each patch one row. A row holds the patch's 1024-d `embedding` (what the
 * service mean-pools into the clip embedding) and `block_in`, the activation entering YAMNet's last
 * two depthwise-separable blocks ([512, 6, 4]), from one run of a derived graph (the served graph plus
 * that output, `patch_graph.py`).
 *
 * Cache: `<cacheRoot>/<encoder>-patches-<sha8>/` (sha8 over the card, the derived graph and the
 * layout), per split `<role>.f32` (embeddings), `<role>.block.f32` (activations) and `<role>.jsonl`
 * (one line a patch: id, label, modality, domain, group, source, view 0, `patch`, `patches`);
 * `meta.json` gives `dim`, `blockShape` and the tensor. Resumable: items already present are skipped.
 *
 * Usage: `npx --yes deno@2.9.6 run -A scripts/embed/extract_patches.ts [--workers 2] [--data data]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join, resolve } from "node:path";
import { loadConfig } from "../../lib/config.ts";
import type { EncoderCard } from "../../lib/encoders/card.ts";
import { sha256Hex } from "../../lib/joint/artifact.ts";
import { ensureEncoders } from "../../lib/weights/ensure_encoders.ts";
import { readManifest } from "../dataset/manifest.ts";
import { requirePython } from "../setup/python.ts";
import { type EmbedItem, ROLES, toEmbedItems } from "./extract.ts";
import type { PatchMessage, PatchReply } from "./extract_patches_worker.ts";

/** Part of the cache key: bump when a row's layout changes. */
const PATCH_LAYOUT = "patches-1";

/** Options of {@linkcode extractPatches}. */
export interface ExtractPatchesOptions {
  /** Dataset items (audio items are taken, original files only). */
  items: EmbedItem[];
  /** The served audio encoder (card and converted graph). */
  encoder: { card: EncoderCard; onnxPath: string };
  /** Folder holding the cache folders (`.cache/embeddings`). */
  cacheRoot: string;
  /** Python with onnx, to derive the graph. */
  python: string;
  /** Parallel workers (one ONNX thread each). @default {2} */
  workers?: number;
  /** Progress lines. @default {console.log} */
  log?: (line: string) => void;
}

/** What {@linkcode extractPatches} did. */
export interface ExtractPatchesResult {
  /** The cache folder. */
  dir: string;
  /** Items and patches computed in this run, and how long it took. */
  items: number;
  patches: number;
  seconds: number;
  /** Items that could not be read (path: reason). */
  failed: string[];
}

/**
 * Extracts the per-patch rows of every audio item the cache does not hold yet.
 *
 * @param opts Items, encoder, cache folder, Python, workers.
 * @returns The cache folder and what was computed.
 *
 * @example
 * ```ts
 * const r = await extractPatches({ items, encoder: encoders.yamnet, cacheRoot: ".cache/embeddings", python });
 * ```
 */
export async function extractPatches(opts: ExtractPatchesOptions): Promise<ExtractPatchesResult> {
  const log = opts.log ?? console.log;
  const { card, onnxPath } = opts.encoder;
  const derived = onnxPath.replace(/\.onnx$/, "_patches.onnx");
  const { python } = opts;
  const made = await new Deno.Command(python, {
    args: [new URL("./patch_graph.py", import.meta.url).pathname, onnxPath, derived],
    stdout: "piped",
    stderr: "inherit",
  }).output();
  if (!made.success) throw new Error(`patch_graph.py failed for ${onnxPath}`);
  const facts = JSON.parse(new TextDecoder().decode(made.stdout));
  const graph = await Deno.readFile(derived);
  const key = await sha256Hex(
    new Uint8Array([...new TextEncoder().encode(JSON.stringify(card) + PATCH_LAYOUT), ...graph]),
  );
  const dir = join(opts.cacheRoot, `${card.name}-patches-${key.slice(0, 8)}`);
  await Deno.mkdir(dir, { recursive: true });
  // YAMNet's for a 96 x 64 patch; another graph fails the length check of every reply below.
  const blockShape = [512, 6, 4];
  const bdim = blockShape.reduce((a, b) => a * b, 1);
  const dim = card.outputs.embedding.dim;
  await Deno.writeTextFile(
    join(dir, "meta.json"),
    JSON.stringify({ encoder: card.name, output: "patches", dim, blockShape, blockTensor: facts.tensor }, null, 2) +
      "\n",
  );
  const items = opts.items.filter((i) => i.modality === "audio");
  const jobs: { role: string; item: EmbedItem }[] = [];
  for (const role of ROLES) {
    const done = await openRole(dir, role, dim, bdim);
    for (const item of items) if (item.split === role && !done.has(item.id)) jobs.push({ role, item });
  }
  const start = performance.now();
  const failed: string[] = [];
  let next = 0, finished = 0, patches = 0, lastLog = start;
  log(`patches: ${jobs.length} items to extract with ${opts.workers ?? 2} workers -> ${dir}`);
  // One write at a time, rows before index, so a crash leaves at most extra rows that openRole cuts.
  let writing = Promise.resolve();
  const write = (role: string, item: EmbedItem, r: Extract<PatchReply, { type: "done" }>) => {
    writing = writing.then(async () => {
      await Deno.writeFile(join(dir, `${role}.f32`), bytes(r.embedding), { append: true });
      await Deno.writeFile(join(dir, `${role}.block.f32`), bytes(r.block), { append: true });
      const { id, label, modality, domain, group, source } = item;
      const lines = Array.from(
        { length: r.count },
        (_, patch) =>
          JSON.stringify({ id, label, modality, domain, group, source, view: 0, patch, patches: r.count }) + "\n",
      );
      await Deno.writeTextFile(join(dir, `${role}.jsonl`), lines.join(""), { append: true });
    });
    return writing;
  };
  const runWorker = async () => {
    const worker = new Worker(new URL("./extract_patches_worker.ts", import.meta.url), { type: "module" });
    const call = (msg: PatchMessage) =>
      new Promise<PatchReply>((res, rej) => {
        worker.onmessage = (e: MessageEvent<PatchReply>) => res(e.data);
        worker.onerror = (e) => {
          e.preventDefault();
          rej(new Error(`patch worker failed: ${e.message}`));
        };
        worker.postMessage(msg);
      });
    try {
      await call({ type: "init", card, onnxPath: derived });
      while (next < jobs.length) {
        const job = jobs[next++]!;
        const r = await call({ type: "job", path: job.item.file });
        if (r.type === "error") {
          failed.push(r.message);
          log(`patches: skipped ${r.message}`);
        } else if (r.type === "done") {
          if (r.embedding.length !== r.count * dim || r.block.length !== r.count * bdim) {
            throw new RangeError(
              `${job.item.file}: ${r.count} patches but ${r.embedding.length}/${r.block.length} values`,
            );
          }
          await write(job.role, job.item, r);
          patches += r.count;
        }
        finished++;
        if (performance.now() - lastLog > 30000) {
          lastLog = performance.now();
          const rate = finished / ((lastLog - start) / 1000);
          log(
            `patches: ${finished}/${jobs.length} items (${rate.toFixed(1)}/s, ${
              Math.round((jobs.length - finished) / rate)
            } s left)`,
          );
        }
      }
    } finally {
      worker.terminate();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.workers ?? 2, jobs.length)) }, runWorker));
  await writing;
  const seconds = (performance.now() - start) / 1000;
  log(`patches: ${finished} items, ${patches} patches in ${seconds.toFixed(1)} s`);
  return { dir, items: finished - failed.length, patches, seconds, failed };
}

function bytes(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Cuts a role's row files to its index (a torn write) and returns the item ids it holds. */
async function openRole(dir: string, role: string, dim: number, bdim: number): Promise<Set<string>> {
  const text = await Deno.readTextFile(join(dir, `${role}.jsonl`)).catch(() => "");
  const lines = text.split("\n");
  const complete = lines.slice(0, -1);
  // Rows of an item are written in one append; a torn item is dropped whole.
  const rows = complete.map((l) => JSON.parse(l) as { id: string; patch: number; patches: number });
  let n = rows.length;
  while (n > 0 && rows[n - 1]!.patch !== rows[n - 1]!.patches - 1) n--;
  if (n < complete.length || lines.at(-1) !== "") {
    await Deno.writeTextFile(join(dir, `${role}.jsonl`), complete.slice(0, n).map((l) => l + "\n").join(""));
  }
  for (const [suffix, width] of [["f32", dim], ["block.f32", bdim]] as const) {
    const path = join(dir, `${role}.${suffix}`);
    const size = await Deno.stat(path).then((s) => s.size, () => 0);
    if (size < n * width * 4) throw new Error(`${path} is shorter than its index; delete ${dir} and re-run`);
    if (size > n * width * 4) await Deno.truncate(path, n * width * 4);
  }
  return new Set(rows.slice(0, n).map((r) => r.id));
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: { workers: { type: "string", default: "2" }, data: { type: "string" } },
  });
  const config = loadConfig();
  const dataDir = resolve(values.data ?? config.dataDir);
  const items = toEmbedItems(await readManifest(join(dataDir, "manifest.jsonl")), {
    dataDir,
    corpusDir: config.corpusDir,
  });
  const encoders = await ensureEncoders({ names: [config.audioEncoder], cacheDir: config.cacheDir });
  const python = await requirePython(["onnx"], "The patch extraction");
  const r = await extractPatches({
    items,
    encoder: encoders[config.audioEncoder]!,
    cacheRoot: join(config.cacheDir, "embeddings"),
    python,
    workers: Number(values.workers),
  });
  console.log(
    JSON.stringify({ dir: r.dir, items: r.items, patches: r.patches, seconds: r.seconds, failed: r.failed.length }),
  );
}
