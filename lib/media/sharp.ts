/**
 * Loads sharp's WebAssembly build (`@img/sharp-wasm32`), never its native
 * addon, and keeps Deno's event loop alive while sharp works.
 *
 * Why WASM: the same libvips binary everywhere (so preprocessing is
 * bit-identical on every host and in training), no `--allow-ffi`, no glibc
 * or CPU-level (x86-64-v2) requirements.
 *
 * How: sharp's loader (`sharp/dist/sharp.mjs`) picks a binary by
 * `${process.platform}-${process.arch}` and falls back to
 * `@img/sharp-wasm32` when no native package matches. With `-A` Deno would
 * load `@img/sharp-linux-x64` (installed as an optional dependency), so this
 * module reports `process.arch` as "wasm32" for the duration of the import
 * and restores it right after (likewise `process.env`, see `libvipsEnv`); then it checks that the WASM build (the one
 * whose `versions` lists `emscripten`) is what loaded. Import sharp only
 * through {@linkcode loadSharp}: a static `import "sharp"` elsewhere that
 * runs first would get the native addon, and `loadSharp` would then throw.
 *
 * @module
 */

import process from "node:process";
import type Sharp from "sharp";

/** sharp's default export: the constructor function with its static helpers. */
export type SharpModule = typeof Sharp;

let loaded: Promise<SharpModule> | undefined;

/**
 * The environment sharp-wasm gets while it loads. Its Emscripten runtime
 * copies the whole process environment into the WASM module
 * (`for (x in process.env)`), which needs unrestricted `--allow-env`; given a
 * plain object with only the libvips variables (`VIPS_*`, when readable)
 * instead, the service runs with `--allow-env` limited to its own variables.
 */
function libvipsEnv(): Record<string, string> {
  if (Deno.permissions.querySync({ name: "env" }).state !== "granted") return {};
  return Object.fromEntries(Object.entries(Deno.env.toObject()).filter(([name]) => name.startsWith("VIPS_")));
}

async function importWasmSharp(): Promise<SharpModule> {
  const arch = Object.getOwnPropertyDescriptor(process, "arch");
  const env = Object.getOwnPropertyDescriptor(process, "env");
  Object.defineProperty(process, "arch", { value: "wasm32", configurable: true });
  Object.defineProperty(process, "env", { value: libvipsEnv(), configurable: true, writable: true });
  let mod: { default: SharpModule };
  try {
    mod = await import("sharp");
  } finally {
    if (arch) Object.defineProperty(process, "arch", arch);
    if (env) Object.defineProperty(process, "env", env);
  }
  const sharp = mod.default;
  // libvips' operation cache (up to 50 MB by default) only helps when the same image is processed twice, which a
  // service taking uploads almost never does; off, peak RSS over the bench inputs was 588 instead of 628 MB.
  sharp.cache(false);
  if (!("emscripten" in sharp.versions)) {
    throw new Error(
      "sharp loaded its native addon instead of @img/sharp-wasm32: import sharp only via lib/media/sharp.ts",
    );
  }
  return sharp;
}

/**
 * Returns sharp backed by `@img/sharp-wasm32`, loading it on first use
 * (0.15–0.3 s to compile the 9 MB module). Measured in a fresh Worker, the
 * first `metadata()` and the first pixel decode then take ~1.1 s each
 * (~0.07 s on the main thread), so pools should warm their workers up.
 *
 * @returns The sharp constructor.
 * @throws {Error} When something imported the native sharp first.
 *
 * @example
 * ```ts
 * const sharp = await loadSharp();
 * const { width } = await keepAlive(sharp(bytes).metadata());
 * ```
 */
export function loadSharp(): Promise<SharpModule> {
  loaded ??= importWasmSharp().catch((error) => {
    loaded = undefined;
    throw error;
  });
  return loaded;
}

/**
 * Whether this isolate has loaded sharp-wasm, for `/healthz`.
 *
 * @returns True once {@linkcode loadSharp} has been called (and not failed).
 */
export function sharpLoaded(): boolean {
  return loaded !== undefined;
}

/**
 * Awaits a sharp promise while holding a timer.
 *
 * sharp-wasm finishes its work through callbacks that Deno does not count
 * as pending, so when nothing else keeps the event loop alive (a `deno test`
 * body, a CLI script, an idle Worker) Deno ends the loop with "Promise
 * resolution is still pending but the event loop has already resolved". A
 * referenced interval for the duration of the await prevents that; it never
 * fires in practice (decodes take milliseconds), so it costs nothing.
 *
 * @param work A promise returned by a sharp pipeline.
 * @returns What `work` resolves to.
 */
export async function keepAlive<T>(work: Promise<T>): Promise<T> {
  const timer = setInterval(() => {}, 60_000);
  try {
    return await work;
  } finally {
    clearInterval(timer);
  }
}
