/**
 * Starts one real service on a free port for the HTTP tests.
 *
 * @module
 */
import { type Config, loadConfig } from "../../../lib/config.ts";
import { type RunningService, startService } from "../../../main.ts";

/** Shared folder, as the service resolves it. */
export const SHARED = loadConfig().sharedDir;

/**
 * Starts a quiet service on 127.0.0.1:0 with the given overrides.
 *
 * @param overrides Config fields to change (limits).
 * @param options `workerUrl` runs another worker module (fault injection).
 */
export async function startTestService(
  overrides: Partial<Config> = {},
  options: { workerUrl?: URL } = {},
): Promise<RunningService> {
  const config: Config = { ...loadConfig(), port: 0, hostname: "127.0.0.1", ...overrides };
  return await startService(config, { quiet: true, log: () => {}, ...options });
}

/** A worker that crashes or hangs on magic bytes (`_faulty_worker.ts`). */
export const FAULTY_WORKER: URL = new URL("./_faulty_worker.ts", import.meta.url);

/** Test options for suites that hold a server and workers across steps. */
export const serverTest = { sanitizeOps: false, sanitizeResources: false } as const;

/**
 * POSTs a body and returns status, content type and parsed JSON.
 *
 * @param url Full URL.
 * @param body Raw bytes or a FormData.
 * @param headers Extra request headers.
 */
export async function post(url: string, body: BodyInit, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: "POST", body, headers });
  const text = await res.text();
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, type: res.headers.get("content-type") ?? "", json, headers: res.headers };
}

/** Cosine similarity of two vectors. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0, na = 0, nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / Math.sqrt(na * nb);
}
