/**
 * amodal: instrument recognition from a sound or a picture.
 *
 * Reads configuration from the environment (see README), prepares the
 * encoders (importing them from the pinned TFLite weights on first run),
 * warms the inference workers and serves HTTP.
 *
 * @module
 */
import { loadConfig } from "./lib/config.ts";
import { startService } from "./lib/service.ts";

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
