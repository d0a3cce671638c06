/**
 * Optional bearer-key authentication against a file of sha256 key hashes.
 *
 * Only hashes are stored, so the keys file is not a secret in itself; the
 * comparison is constant-time over the hash so timing reveals nothing.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { timingSafeEqual } from "node:crypto";
import { ProblemError } from "../errors.ts";

/**
 * Reads accepted key hashes: one lowercase sha256 hex per line, `#` comments allowed.
 *
 * @param path The keys file.
 * @returns The decoded hashes.
 * @throws {SyntaxError} When a line is not 64 hex characters.
 */
export async function readKeyHashes(path: string): Promise<Uint8Array[]> {
  const text = await Deno.readTextFile(path);
  return text.split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#")).map((line, i) => {
    if (!/^[0-9a-fA-F]{64}$/.test(line)) {
      throw new SyntaxError(`Cannot read ${path}: line ${i + 1} is not a sha256 hex digest`);
    }
    return Uint8Array.from(line.match(/../g)!, (h) => parseInt(h, 16));
  });
}

/**
 * Creates the middleware: requests without a valid `Authorization: Bearer <key>` get 401.
 *
 * @param hashes sha256 digests of the accepted keys.
 * @returns The middleware; it stores the key's hash hex as `apiKey` for rate limiting.
 */
export function apiKeys(hashes: Uint8Array[]): MiddlewareHandler {
  return async function apiKeys(c, next) {
    const header = c.req.header("authorization") ?? "";
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) {
      throw new ProblemError(401, "Send an API key as `Authorization: Bearer <key>`", {
        headers: { "www-authenticate": 'Bearer realm="amodal"' },
      });
    }
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(match[1]!)));
    // Compare against every hash without stopping early: timing does not reveal which (or whether one) matched.
    let found = false;
    for (const hash of hashes) found = timingSafeEqual(hash, digest) || found;
    if (!found) {
      throw new ProblemError(401, "The API key is not valid", {
        headers: { "www-authenticate": 'Bearer realm="amodal", error="invalid_token"' },
      });
    }
    c.set(
      "apiKey" as never,
      Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("") as never,
    );
    await next();
  };
}
