/**
 * `deno task index <dir>... --collection NAME`: stores every file of the folders in a collection, on a
 * running service (`--url`) or straight into the configured KV store with the pipeline in this process.
 *
 * Resumable: items whose id already holds the same content (sha256) embedded by the current model are
 * skipped without being sent, so a second run after an interruption, or after adding files, does only what
 * is missing; items embedded by an older model are re-put. Ids are the files' paths relative to the folder
 * (`/` becomes `:`, other characters outside the id alphabet `_`). `--label-from-dir` puts the parent
 * folder's name in the metadata as `label` (teaching it). Shows a progress bar; exits 1 naming the files
 * that failed and why, 2 on a usage error.
 *
 * @module
 */
import { relative } from "node:path";
import { sha256Hex } from "../../lib/http/cached_inference.ts";
import { ID_PATTERN, NAME_PATTERN } from "../../lib/collections/names.ts";
import { CollectionStore, openKv } from "../../lib/collections/store.ts";
import { loadConfig } from "../../lib/config.ts";
import { ProblemError } from "../../lib/errors.ts";
import { vectorModality } from "../../lib/video_pipeline.ts";
import { describeError, expandInputs, localRunner, parseArgs, progress } from "./_common.ts";

const USAGE = "usage: deno task index <dir>... --collection NAME [--label-from-dir] [--url http://host:port] " +
  "[--api-key KEY]";

/** What is stored under an id: enough to decide whether to send the file again. */
interface Known {
  sha256: string;
  stale: boolean;
}

/** Where items go. */
interface Target {
  /** Ids already stored, with their content hash and whether another model embedded them. */
  known(): Promise<Map<string, Known>>;
  put(id: string, bytes: Uint8Array, metadata: Record<string, unknown>): Promise<string>;
  close(): Promise<void>;
}

/**
 * The item id of a file: its path relative to the folder, in the id alphabet.
 *
 * @param rel Relative path with `/` separators.
 * @returns An id matching {@linkcode ID_PATTERN}.
 *
 * @example
 * ```ts
 * itemId("violin/a b.jpg"); // "violin:a_b.jpg"
 * ```
 */
export function itemId(rel: string): string {
  let id = rel.replaceAll("\\", "/").split("/").join(":").replace(/[^A-Za-z0-9._~:@+=-]/g, "_");
  if (!/^[A-Za-z0-9]/.test(id)) id = `f${id}`;
  // Long paths keep their start and a hash of the whole, so two long paths stay apart.
  if (id.length > 200) id = `${id.slice(0, 183)}~${sha256Hex(new TextEncoder().encode(rel)).slice(0, 16)}`;
  return id;
}

/**
 * Runs the command.
 *
 * @param args Command-line arguments.
 * @returns The exit code.
 */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(args, { flags: ["help", "label-from-dir"], values: ["url", "api-key", "collection"] });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { options, positional } = parsed;
  if (options.help) {
    console.error(USAGE);
    return 0;
  }
  const name = options.collection;
  if (positional.length === 0 || typeof name !== "string") {
    console.error(USAGE);
    return 2;
  }
  if (!NAME_PATTERN.test(name)) {
    console.error(`Invalid collection name ${JSON.stringify(name)}: use 1-64 letters, digits, ".", "_" or "-"`);
    return 2;
  }
  const files: { path: string; rel: string }[] = [];
  const failed: string[] = [];
  for (const root of positional) {
    const { inputs, unreadable } = await expandInputs([root]);
    for (const path of unreadable) failed.push(`${path}: cannot read it`);
    for (const input of inputs) files.push({ path: input.path, rel: relative(root, input.path) || input.path });
  }
  const target = typeof options.url === "string"
    ? remoteTarget(options.url, name, typeof options["api-key"] === "string" ? options["api-key"] : undefined)
    : await localTarget(name);
  let known: Map<string, Known>;
  try {
    known = await target.known();
  } catch (error) {
    console.error(`Cannot read collection ${name}: ${describeError(error).detail}`);
    await target.close();
    return 1;
  }
  const seen = new Map<string, string>();
  const counts = { created: 0, replaced: 0, unchanged: 0, skipped: 0 };
  const bar = progress(files.length);
  for (const file of files) {
    const id = itemId(file.rel);
    try {
      if (!ID_PATTERN.test(id)) throw new TypeError(`no valid id can be made from ${file.rel}`);
      const other = seen.get(id);
      if (other) throw new TypeError(`its id ${id} is also ${other}'s`);
      seen.set(id, file.rel);
      const bytes = await Deno.readFile(file.path);
      const before = known.get(id);
      if (before && !before.stale && before.sha256 === sha256Hex(bytes)) counts.skipped++;
      else {
        const label = file.rel.split(/[/\\]/).slice(-2, -1)[0];
        const metadata = { file: file.rel, ...(options["label-from-dir"] && label ? { label } : {}) };
        counts[(await target.put(id, bytes, metadata)) as keyof typeof counts]++;
      }
    } catch (error) {
      const { status, detail } = describeError(error);
      // The service's status helps ("415 Not a supported ..."); a local reason needs none.
      failed.push(`${file.path}: ${error instanceof ProblemError ? `${status} ` : ""}${detail}`);
    }
    bar.tick();
  }
  bar.done();
  await target.close();
  console.log(
    `${name}: ${counts.created} added, ${counts.replaced} replaced, ${counts.unchanged} unchanged, ` +
      `${counts.skipped} already stored (skipped), ${failed.length} failed`,
  );
  if (failed.length > 0) {
    console.error(`Could not index ${failed.length} of ${files.length} file(s):\n  ${failed.join("\n  ")}`);
    return 1;
  }
  return 0;
}

function remoteTarget(url: string, name: string, apiKey: string | undefined): Target {
  const base = `${url.replace(/\/+$/, "")}/v1/collections/${name}`;
  const headers: Record<string, string> = apiKey ? { authorization: `Bearer ${apiKey}` } : {};
  const problem = async (res: Response) => {
    const body = await res.json().catch(() => ({}));
    return new ProblemError(res.status, body.detail ?? `HTTP ${res.status}`);
  };
  return {
    async known() {
      const out = new Map<string, Known>();
      let cursor: string | null = "";
      while (cursor !== null) {
        const res = await fetch(`${base}/items?limit=1000${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`, {
          headers,
        });
        if (res.status === 404) {
          await res.body?.cancel();
          return out; // a new collection
        }
        if (!res.ok) throw await problem(res);
        const page = await res.json() as { items: { id: string; sha256: string; stale: boolean }[]; cursor: string };
        for (const item of page.items) out.set(item.id, { sha256: item.sha256, stale: item.stale });
        cursor = page.cursor;
      }
      return out;
    },
    async put(id, bytes, metadata) {
      const form = new FormData();
      form.append("file", new Blob([bytes as Uint8Array<ArrayBuffer>]));
      form.append("metadata", JSON.stringify(metadata));
      // A 503 (busy service, store briefly down) is worth a few retries before the file counts as failed.
      for (let attempt = 0;; attempt++) {
        const res = await fetch(`${base}/items/${id}`, { method: "PUT", body: form, headers });
        if (res.ok) return (await res.json()).outcome;
        if (res.status !== 503 || attempt === 4) throw await problem(res);
        await res.body?.cancel();
        await new Promise((r) => setTimeout(r, 500 * 2 ** attempt));
      }
    },
    async close() {},
  };
}

async function localTarget(name: string): Promise<Target> {
  const config = loadConfig();
  const runner = await localRunner();
  const model = JSON.parse(await Deno.readTextFile(`${config.modelsDir}/manifest.json`)).version as string;
  const store = new CollectionStore({ open: () => openKv(config.kvUrl), maxItems: config.collectionMaxItems });
  return {
    async known() {
      const out = new Map<string, Known>();
      let cursor: string | undefined;
      do {
        const page = await store.list("_", name, { limit: 1000, ...(cursor ? { cursor } : {}) });
        for (const item of page.items) out.set(item.id, { sha256: item.sha256, stale: item.model !== model });
        cursor = page.cursor ?? undefined;
      } while (cursor);
      return out;
    },
    async put(id, bytes, metadata) {
      const sha256 = sha256Hex(bytes);
      const result = await runner.classify(bytes, undefined, { embedding: true });
      const { outcome } = await store.put("_", name, {
        id,
        modality: vectorModality(result),
        prediction: result.label,
        predictionScore: result.score,
        sha256,
        model: result.model,
        metadata,
        vector: result.embedding!,
      });
      return outcome;
    },
    close: () => store.close(),
  };
}

if (import.meta.main) Deno.exit(await main(Deno.args));
