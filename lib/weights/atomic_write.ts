/**
 * Atomic file writes: readers never see a half-written encoder or card.
 *
 * @module
 */
import { dirname } from "node:path";

/**
 * Writes `data` to `path` via a temporary file in the same directory and a
 * rename, creating the directory if needed.
 *
 * @param path Destination file.
 * @param data Bytes or text.
 * @example
 * ```ts
 * await atomicWrite(".cache/encoders/yamnet.json", JSON.stringify(card));
 * ```
 */
export async function atomicWrite(path: string, data: Uint8Array | string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${Deno.pid}-${crypto.randomUUID().slice(0, 8)}`;
  try {
    if (typeof data === "string") await Deno.writeTextFile(tmp, data);
    else await Deno.writeFile(tmp, data);
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}
