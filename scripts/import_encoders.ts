/**
 * Converts the pinned TFLite encoders of `models/encoders.json` into
 * `<cacheDir>/encoders/<name>.onnx` (+ sidecar card), skipping up-to-date ones.
 *
 * Usage: `deno run -A scripts/import_encoders.ts [name ...] [--cache-dir DIR]
 * [--weights-dir DIR] [--offline]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { ensureEncoders } from "../lib/weights/ensure_encoders.ts";

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: {
      "cache-dir": { type: "string" },
      "weights-dir": { type: "string" },
      offline: { type: "boolean", default: false },
    },
  });
  const encoders = await ensureEncoders({
    ...(values["cache-dir"] ? { cacheDir: values["cache-dir"] } : {}),
    ...(values["weights-dir"] ? { weightsDir: values["weights-dir"] } : {}),
    ...(positionals.length > 0 ? { names: positionals } : {}),
    ...(values.offline ? { fetch: null } : {}),
  });
  for (const [name, e] of Object.entries(encoders)) console.log(`${name}\t${e.onnxPath}`);
}
