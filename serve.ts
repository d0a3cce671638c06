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
const app = prepareService(config).then(({ pool, info, keyHashes }) => createApp({ config, pool, info, keyHashes }));
// A failed preparation is reported once here and then answered as a 500 by every request.
app.catch((error) => console.error(`amodal failed to start: ${error instanceof Error ? error.message : error}`));

/** The request handler `deno serve` calls. */
export default {
  async fetch(request: Request): Promise<Response> {
    return (await app).fetch(request);
  },
} satisfies Deno.ServeDefaultExport;
