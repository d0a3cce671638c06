/**
 * The service as a `deno serve` module (`export default { fetch }`), for platforms that own the listener
 * (Deno Deploy and other edge runtimes, `deno serve --parallel`). Preparation starts when the module loads;
 * requests that arrive before it is done wait for it. Configuration comes from the same `AMODAL_*`
 * variables as `main.ts` (the port from `deno serve --port`); `AMODAL_WORKERS=0` keeps inference in this
 * isolate for platforms without Workers.
 *
 * ```sh
 * deno serve --port 8000 <the start task's flags> serve.ts
 * ```
 *
 * @module
 */
import { loadConfig } from "./lib/config.ts";
import { prepareService } from "./lib/service.ts";
import { createApp } from "./routes/app.ts";

const config = loadConfig();
const prepared = prepareService(config);
const app = prepared.then(({ pool, info, keyHashes }) => createApp({ config, pool, info, keyHashes }));
// A failed preparation is reported once here and then answered as a 500 by every request.
app.catch((error) => console.error(`amodal failed to start: ${error instanceof Error ? error.message : error}`));

// `deno serve` stops listening on SIGTERM, but the inference Workers (and sharp's threads) would keep the process
// alive (measured: still running 10 s later), so stop them and exit. Platforms without signals skip this.
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  try {
    Deno.addSignalListener(signal, async () => {
      await prepared.then(({ pool }) => pool.close(), () => {});
      Deno.exit(0);
    });
  } catch {
    // No signal support here (e.g. an edge isolate): the platform ends the isolate itself.
  }
}

/** The request handler `deno serve` calls. */
export default {
  async fetch(request: Request): Promise<Response> {
    return (await app).fetch(request);
  },
} satisfies Deno.ServeDefaultExport;
