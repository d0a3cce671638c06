/**
 * Prepares everything a request needs, without HTTP: encoders imported and verified, model facts
 * read, API keys loaded, inference workers warm. `main.ts` puts the HTTP surface (`routes/app.ts`) on
 * top.
 *
 * @module
 */
import type { Config } from "./config.ts";
import { WorkerPool } from "./worker/pool.ts";
import { ensureEncoders } from "./weights/ensure_encoders.ts";
import { readServiceInfo, type ServiceInfo } from "./service_info.ts";
import { readKeyHashes } from "./http/api_keys.ts";

/** What {@linkcode prepareService} readies. */
export interface PreparedService {
  pool: WorkerPool;
  info: ServiceInfo;
  /** sha256 digests of accepted API keys; undefined = open service. */
  keyHashes?: Uint8Array[];
}

/** Options of {@linkcode prepareService}. */
export interface PrepareOptions {
  /** Receives progress lines. @default console.error */
  log?: (line: string) => void;
  /** Worker module to run (tests pass one with fault injection). @default ./worker/inference_worker.ts */
  workerUrl?: URL;
}

/**
 * Readies encoders, model facts and warm workers.
 *
 * @param config Service configuration.
 * @param options Logging and the worker module.
 * @returns The pool, model facts and API key digests.
 */
export async function prepareService(config: Config, options: PrepareOptions = {}): Promise<PreparedService> {
  const log = options.log ?? ((line: string) => console.error(line));
  const encoders = await ensureEncoders({
    cacheDir: config.cacheDir,
    weightsDir: config.weightsDir,
    names: [config.audioEncoder, config.imageEncoder],
    log,
  });
  const audio = encoders[config.audioEncoder];
  const image = encoders[config.imageEncoder];
  if (!audio || !image) throw new Error(`Unknown encoder: ${config.audioEncoder} / ${config.imageEncoder}`);
  const info = await readServiceInfo(config, [audio.card, image.card]);
  const keyHashes = config.apiKeysFile ? await readKeyHashes(config.apiKeysFile) : undefined;
  const pool = new WorkerPool({
    workerUrl: options.workerUrl ?? new URL("./worker/inference_worker.ts", import.meta.url),
    init: { type: "init", config, encoders: { audio, image }, joint: info.joint !== undefined },
    size: config.workers,
    queueSize: config.queueSize,
    timeoutMs: config.requestTimeoutMs,
  });
  log(`starting ${config.workers} inference worker(s) ...`);
  try {
    await pool.ready();
  } catch (error) {
    pool.close();
    throw error;
  }
  return { pool, info, ...(keyHashes ? { keyHashes } : {}) };
}
