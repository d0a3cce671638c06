/**
 * Starts the whole service: encoders ready, workers warm, HTTP listening.
 * `main.ts` and the integration tests both use it, so tests run the real thing.
 *
 * @module
 */
import type { Config } from "./config.ts";
import { createApp } from "./app.ts";
import { WorkerPool } from "./worker/pool.ts";
import { ensureEncoders } from "./weights/ensure_encoders.ts";
import { readServiceInfo } from "./service_info.ts";
import { readKeyHashes } from "./http/api_keys.ts";

/** A running service. */
export interface RunningService {
  /** Base URL, e.g. `http://127.0.0.1:8000`. */
  url: string;
  pool: WorkerPool;
  /** Stops accepting requests, then terminates the workers. */
  close(): Promise<void>;
}

/**
 * Prepares models and starts listening.
 *
 * @param config Service configuration (`port: 0` picks a free port).
 * @param options `log` receives progress and access-log lines; `quiet` silences the access log.
 * @returns The running service.
 */
export async function startService(
  config: Config,
  options: { log?: (line: string) => void; quiet?: boolean } = {},
): Promise<RunningService> {
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
    workerUrl: new URL("./worker/inference_worker.ts", import.meta.url),
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
  const app = createApp({ config, pool, info, keyHashes, ...(options.quiet ? { log: () => {} } : {}) });
  const server = Deno.serve({ port: config.port, hostname: config.hostname, onListen: () => {} }, app.fetch);
  const address = server.addr as Deno.NetAddr;
  const host = address.hostname === "0.0.0.0" ? "127.0.0.1" : address.hostname;
  return {
    url: `http://${host}:${address.port}`,
    pool,
    async close() {
      await server.shutdown();
      pool.close();
    },
  };
}
