/**
 * Finds a pinned file (TFLite weights, labels) and checks its SHA-256.
 *
 * Sources, in order: the download cache (`<cacheDir>/weights/<file>`), the
 * local weights directory (`AMODAL_WEIGHTS_DIR`, default `../shared/weights`),
 * then the pinned upstream URL (saved into the cache). The hash is verified
 * for every source; a source with the wrong bytes is skipped with a message
 * and, if nothing matches, the error lists what each source said.
 *
 * @module
 */
import { join } from "node:path";
import { atomicWrite } from "./atomic_write.ts";
import { sha256Hex } from "./sha256.ts";

/** What to look for. */
export interface PinnedFile {
  /** File name (also the name inside the weights dir and cache). */
  file: string;
  /** Expected SHA-256, lowercase hex. */
  sha256: string;
  /** Pinned URL (raw GitHub at a commit). */
  url: string;
}

/** Where to look. */
export interface ResolveOptions {
  /** Cache root; downloads go to `<cacheDir>/weights/`. */
  cacheDir: string;
  /** Local directory with the original files. */
  weightsDir: string;
  /**
   * Fetch used for the URL source; `null` disables downloading.
   * @default {globalThis.fetch}
   */
  fetch?: typeof fetch | null;
  /** Progress messages. @default {() => {}} */
  log?: (line: string) => void;
}

/** A verified file. */
export interface ResolvedFile {
  /** Its bytes. */
  bytes: Uint8Array;
  /** Path the bytes were read from or saved to. */
  path: string;
  /** Which source supplied it. */
  source: "cache" | "local" | "url";
}

async function readIfExists(path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/**
 * Returns the bytes of a pinned file after checking its SHA-256.
 *
 * @param spec File name, expected hash, pinned URL.
 * @param opts Cache and local directories, fetch, log.
 * @returns The bytes and where they came from.
 * @throws {Error} When no source has the file with the expected hash; the
 *   message names every source tried and why it was rejected.
 * @example
 * ```ts
 * const { bytes, source } = await resolveFile(
 *   { file: "yamnet.tflite", sha256: "469b...", url: "https://..." },
 *   { cacheDir: ".cache", weightsDir: "../shared/weights" },
 * );
 * ```
 */
export async function resolveFile(
  spec: PinnedFile,
  opts: ResolveOptions,
): Promise<ResolvedFile> {
  const log = opts.log ?? (() => {});
  const problems: string[] = [];
  const check = async (
    bytes: Uint8Array | null,
    path: string,
    what: string,
  ): Promise<boolean> => {
    if (bytes === null) {
      problems.push(`${what} ${path}: not found`);
      return false;
    }
    const actual = await sha256Hex(bytes);
    if (actual === spec.sha256) return true;
    const msg = `${what} ${path}: sha256 mismatch (got ${actual}, expected ${spec.sha256})`;
    problems.push(msg);
    log(`ignoring ${msg}`);
    return false;
  };

  const cachePath = join(opts.cacheDir, "weights", spec.file);
  const cached = await readIfExists(cachePath);
  if (await check(cached, cachePath, "cache")) {
    return { bytes: cached!, path: cachePath, source: "cache" };
  }
  const localPath = join(opts.weightsDir, spec.file);
  const local = await readIfExists(localPath);
  if (await check(local, localPath, "local")) {
    return { bytes: local!, path: localPath, source: "local" };
  }
  const fetcher = opts.fetch === undefined ? globalThis.fetch : opts.fetch;
  if (fetcher === null) {
    problems.push(`url ${spec.url}: downloading disabled`);
  } else {
    log(`downloading ${spec.file} from ${spec.url} ...`);
    try {
      const res = await fetcher(spec.url);
      if (!res.ok) {
        await res.body?.cancel();
        problems.push(`url ${spec.url}: HTTP ${res.status}`);
      } else {
        const bytes = new Uint8Array(await res.arrayBuffer());
        if (await check(bytes, spec.url, "url")) {
          await atomicWrite(cachePath, bytes);
          return { bytes, path: cachePath, source: "url" };
        }
      }
    } catch (error) {
      problems.push(`url ${spec.url}: ${(error as Error).message}`);
    }
  }
  throw new Error(
    `Cannot find ${spec.file} with sha256 ${spec.sha256}:\n  ${problems.join("\n  ")}`,
  );
}
