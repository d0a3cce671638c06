/**
 * Regenerates `serve.lock`, the lockfile `deno task start` reads (deno.json `"lock"`), from `deno.lock`.
 *
 * Why two lockfiles: with `"nodeModulesDir": "auto"`, `deno task` installs every npm package of the config's
 * lockfile before it runs any task (it looks for npm binaries; denoland/deno#29816), and `deno run` fills
 * `node_modules` with the lockfile's whole snapshot. So the lockfile that `start` reads must list only what serving
 * loads; the dataset, test, bench and training packages live in `deno.lock`, which every other task passes with
 * `--lock=deno.lock`.
 *
 * How: seeds serve.lock with deno.lock's entries for the import map's packages (the import map holds only the
 * service's packages; tests/layout_test.ts enforces it), lets `deno install --entrypoint` on the service's two
 * entry points prune the rest (same versions and integrity as deno.lock, nothing re-resolved), then drops sharp's
 * native builds: serving loads sharp's WebAssembly build only (lib/media/sharp.ts), and the optional
 * `@img/sharp-<platform>` and `@img/sharp-libvips-<platform>` packages are ~37 MB installed (17 MB downloaded) on
 * linux-x64, where both the glibc and the musl builds match. Optional dependencies may be absent; sharp then
 * falls back to `@img/sharp-wasm32`, which is what lib/media/sharp.ts asks for anyway.
 *
 * Run after changing the import map or a serving package: `deno task --frozen=false lock:serve` (`--frozen=false`
 * because `deno task` first installs the frozen serve.lock, which is out of date by then).
 *
 * @module
 */
import { join } from "node:path";
import { REPO_ROOT } from "../../lib/config.ts";

/** The service's entry points: the HTTP process and its inference workers. */
export const SERVICE_ENTRY_POINTS = ["main.ts", "lib/worker/inference_worker.ts"];

/** A Deno lockfile (version 5), the parts this script reads or writes. */
export interface DenoLock {
  version: string;
  specifiers: Record<string, string>;
  npm: Record<string, { integrity: string; dependencies?: string[]; optionalDependencies?: string[] }>;
  workspace?: { dependencies?: string[] };
  [key: string]: unknown;
}

/**
 * Whether an npm package is one of sharp's native builds (addon or libvips), which serving never loads.
 *
 * @param name Package name without version, e.g. `@img/sharp-linux-x64`.
 * @returns True for `@img/sharp-*` except the WebAssembly build.
 *
 * @example
 * ```ts
 * isNativeSharp("@img/sharp-libvips-linux-x64"); // true
 * isNativeSharp("@img/sharp-wasm32"); // false
 * ```
 */
export function isNativeSharp(name: string): boolean {
  return name.startsWith("@img/sharp-") && name !== "@img/sharp-wasm32";
}

/**
 * The package name of an npm specifier or lockfile key.
 *
 * @param specifier `npm:hono@4.13.19`, `npm:/hono@4.13.19/`, `@img/sharp-wasm32@0.35.5` ...
 * @returns The name, e.g. `hono` or `@img/sharp-wasm32`.
 *
 * @example
 * ```ts
 * npmName("npm:@hono/zod-openapi@1.6.3"); // "@hono/zod-openapi"
 * ```
 */
export function npmName(specifier: string): string {
  return specifier.replace(/^npm:/, "").replace(/^\//, "").match(/^(@[^/@]+\/[^@/]+|[^@/]+)/)![1]!;
}

/**
 * Removes sharp's native builds from a lockfile: the packages and sharp's optional-dependency links to them.
 *
 * @param lock A parsed lockfile; left unchanged.
 * @returns A copy without them.
 *
 * @example
 * ```ts
 * const lean = withoutNativeSharp(JSON.parse(await Deno.readTextFile("serve.lock")));
 * ```
 */
export function withoutNativeSharp(lock: DenoLock): DenoLock {
  const npm: DenoLock["npm"] = {};
  for (const [key, entry] of Object.entries(lock.npm)) {
    if (isNativeSharp(npmName(key))) continue;
    const optional = entry.optionalDependencies?.filter((name) => !isNativeSharp(name));
    const { optionalDependencies: _, ...rest } = entry;
    npm[key] = optional?.length ? { ...rest, optionalDependencies: optional } : rest;
  }
  return { ...lock, npm };
}

async function deno(args: string[]): Promise<void> {
  const out = await new Deno.Command(Deno.execPath(), { args, cwd: REPO_ROOT, stdout: "null", stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`deno ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`);
}

if (import.meta.main) {
  const config = JSON.parse(await Deno.readTextFile(join(REPO_ROOT, "deno.json")));
  const served = new Set(Object.values(config.imports as Record<string, string>).map(npmName));
  const full = JSON.parse(await Deno.readTextFile(join(REPO_ROOT, "deno.lock"))) as DenoLock;
  // Without its workspace section the seed differs from the config, which makes Deno drop every package that no
  // kept specifier reaches; the kept ones stay as resolved in deno.lock.
  const { workspace: _, ...rest } = full;
  const seed = {
    ...rest,
    specifiers: Object.fromEntries(Object.entries(full.specifiers).filter(([spec]) => served.has(npmName(spec)))),
  };
  const path = join(REPO_ROOT, "serve.lock");
  await Deno.writeTextFile(path, JSON.stringify(seed, null, 2) + "\n");
  await deno(["install", "--lock=serve.lock", "--frozen=false", "--entrypoint", ...SERVICE_ENTRY_POINTS]);
  const pruned = JSON.parse(await Deno.readTextFile(path)) as DenoLock;
  await Deno.writeTextFile(path, JSON.stringify(withoutNativeSharp(pruned), null, 2) + "\n");
  // The frozen check proves Deno takes the result as it is (nothing to add or re-resolve).
  await deno(["install", "--lock=serve.lock", "--frozen", "--entrypoint", ...SERVICE_ENTRY_POINTS]);
  console.log(`serve.lock: ${Object.keys(withoutNativeSharp(pruned).npm).length} packages`);
}
