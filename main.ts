/**
 * amodal: instrument recognition from a sound or a picture.
 *
 * Reads configuration from the environment (see README), prepares the encoders (importing them from
 * the pinned TFLite weights on first run), warms the inference workers and serves HTTP.
 *
 * @module
 */
import { type Config, loadConfig } from "./lib/config.ts";
import { type PrepareOptions, prepareService, type ServiceRunner } from "./lib/service.ts";
import { createApp } from "./routes/app.ts";
import { CollectionStore, openKv } from "./lib/collections/store.ts";

/** A running service. */
export interface RunningService {
  /** Base URL, e.g. `http://127.0.0.1:8000`. */
  url: string;
  /** The inference runner (images decoded in the main isolate, inference in workers or in-isolate). */
  pool: ServiceRunner;
  /** Stops accepting requests, then terminates the workers. */
  close(): Promise<void>;
}

/**
 * Prepares models and starts listening.
 *
 * @param config Service configuration (`port: 0` picks a free port).
 * @param options `log` receives progress and access-log lines; `quiet` silences the access log; `workerUrl`
 *   swaps the worker module (tests).
 * @returns The running service.
 */
export async function startService(
  config: Config,
  options: PrepareOptions & { quiet?: boolean } = {},
): Promise<RunningService> {
  const { pool, info, keyHashes } = await prepareService(config, options);
  // Opened on first use: a store that is down gives 503 on collection routes, never a failed start.
  const collections = new CollectionStore({ open: () => openKv(config.kvUrl), maxItems: config.collectionMaxItems });
  const app = createApp({ config, pool, info, keyHashes, collections, ...(options.quiet ? { log: () => {} } : {}) });
  // Collections' indexes are loaded in the background; a store that cannot be opened is reported per request.
  collections.warm().then(
    ({ collections: n, items }) => n && (options.log ?? console.error)(`collections: ${n} loaded (${items} items)`),
    () => {},
  );
  const server = Deno.serve({ port: config.port, hostname: config.hostname, onListen: () => {} }, app.fetch);
  const address = server.addr as Deno.NetAddr;
  const host = address.hostname === "0.0.0.0" ? "127.0.0.1" : address.hostname;
  return {
    url: `http://${host}:${address.port}`,
    pool,
    async close() {
      await server.shutdown();
      pool.close();
      await collections.close();
    },
  };
}

if (import.meta.main) {
  const config = loadConfig();
  try {
    const service = await startService(config);
    console.error(`amodal listening on ${service.url}`);
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      Deno.addSignalListener(signal, async () => {
        await service.close();
        Deno.exit(0);
      });
    }
  } catch (error) {
    console.error(`amodal failed to start: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
