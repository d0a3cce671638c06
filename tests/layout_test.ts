/**
 * The tree's rules, checked: what serves is only `lib/`, `routes/`, `models/` and the npm packages the
 * service needs; imports point one way (routes -> lib, scripts -> lib, never back); no import cycles;
 * scripts share through modules, never through another script's `main.ts`.
 */
import assert from "node:assert/strict";
import { dirname, join, relative, resolve } from "node:path";
import { REPO_ROOT } from "../lib/config.ts";
import { type DenoLock, isNativeSharp, npmName } from "../scripts/setup/serve_lock.ts";

/** Files whose imports are scanned (tests may import anything). */
const SOURCE_ROOTS = ["main.ts", "lib", "routes", "scripts"];

/** npm packages the service's module graph may load. */
const SERVICE_PACKAGES = new Set([
  "hono",
  "onnxruntime-web",
  "onnxruntime-node",
  "@img/sharp-wasm32",
  "sharp",
  "@ffmpeg/core",
  "flatbuffers",
  "protobufjs", // fuses encoder + translator graphs (lib/encoders/fuse/); onnxruntime-web already depends on it
  "image-size",
  "fft.js",
  "libheif-js",
  "@hono/zod-openapi",
  "zod",
  "swagger-ui-dist",
]);

function sourceFiles(): string[] {
  const out: string[] = [];
  const walk = (path: string) => {
    const info = Deno.statSync(join(REPO_ROOT, path));
    if (info.isFile) {
      if (/\.tsx?$/.test(path)) out.push(path);
      return;
    }
    for (const entry of Deno.readDirSync(join(REPO_ROOT, path))) walk(join(path, entry.name));
  };
  for (const root of SOURCE_ROOTS) walk(root);
  return out.sort();
}

/** Relative module specifiers a file imports at run time: statically, dynamically or as a Worker. */
function localImports(file: string): string[] {
  const text = Deno.readTextFileSync(join(REPO_ROOT, file));
  const specs = [
    // Type-only imports are erased: they make no runtime arrow (a loader and the interface its formats implement).
    ...text.matchAll(/(?:^|\n)\s*(?:import|export)(?!\s+type\s)(?:[^"';]*?from)?\s*["'](\.{1,2}\/[^"']+)["']/g),
    ...text.matchAll(/import\(\s*["'](\.{1,2}\/[^"']+)["']/g),
    ...text.matchAll(/new URL\(\s*["'](\.{1,2}\/[^"']+\.ts)["'],\s*import\.meta\.url\)/g),
  ].map((m) => m[1]!);
  return specs
    .filter((s) => /\.tsx?$/.test(s))
    .map((s) => relative(REPO_ROOT, resolve(REPO_ROOT, dirname(file), s)));
}

const layer = (file: string) => file === "main.ts" ? "main" : file.split("/")[0]!;

Deno.test("imports point one way: lib never imports routes, scripts or main; routes never import scripts", () => {
  const wrong: string[] = [];
  for (const file of sourceFiles()) {
    for (const target of localImports(file)) {
      const from = layer(file), to = layer(target);
      const upward = (from === "lib" && to !== "lib" && to !== "models") ||
        (from === "routes" && (to === "scripts" || to === "main"));
      const intoMain = from === "scripts" && target.startsWith("scripts/") && target.endsWith("/main.ts") &&
        dirname(target) !== dirname(file);
      if (upward || intoMain) wrong.push(`${file} -> ${target}`);
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("no import cycles among main.ts, lib/, routes/ and scripts/", () => {
  const graph = new Map(sourceFiles().map((f) => [f, localImports(f)]));
  const state = new Map<string, "open" | "done">();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === "done") return;
    if (state.get(file) === "open") {
      cycles.push([...path.slice(path.indexOf(file)), file].join(" -> "));
      return;
    }
    state.set(file, "open");
    for (const next of graph.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, "done");
  };
  for (const file of graph.keys()) visit(file, []);
  assert.deepEqual(cycles, []);
});

Deno.test("the service's module graph holds only lib/, routes/, models/, main.ts and service packages", async () => {
  const outside: string[] = [];
  for (const entry of ["main.ts", "lib/worker/inference_worker.ts"]) {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["info", "--json", entry],
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
      modules: { specifier: string }[];
      npmPackages?: Record<string, { name: string }>;
    };
    for (const { specifier } of info.modules) {
      if (specifier.startsWith("file://")) {
        const file = relative(REPO_ROOT, new URL(specifier).pathname);
        if (!/^(lib|routes|models)\//.test(file) && file !== "main.ts") outside.push(`${entry}: ${file}`);
      } else if (specifier.startsWith("npm:")) {
        const name = specifier.slice(4).replace(/^\//, "").match(/^(@[^/]+\/[^@/]+|[^@/]+)/)![1]!;
        if (!SERVICE_PACKAGES.has(name)) outside.push(`${entry}: ${specifier}`);
      } else if (!specifier.startsWith("node:")) {
        outside.push(`${entry}: ${specifier}`);
      }
    }
  }
  assert.deepEqual(outside, []);
});

// `deno task` installs every package of the config's lockfile before any task (denoland/deno#29816), so what
// `deno task start` downloads is serve.lock; scripts/setup/serve_lock.ts (`deno task --frozen=false lock:serve`) derives it.
Deno.test("serve.lock, what `deno task start` installs, holds only the service's packages, locked as in deno.lock", () => {
  const config = JSON.parse(Deno.readTextFileSync(join(REPO_ROOT, "deno.json")));
  assert.deepEqual(config.lock, { path: "serve.lock", frozen: true });
  const mapped = new Set(Object.values(config.imports as Record<string, string>).map(npmName));
  assert.deepEqual(
    [...mapped].filter((name) => !SERVICE_PACKAGES.has(name)),
    [],
    "dev-only packages in the import map",
  );
  const serve = JSON.parse(Deno.readTextFileSync(join(REPO_ROOT, "serve.lock"))) as DenoLock;
  const dev = JSON.parse(Deno.readTextFileSync(join(REPO_ROOT, "deno.lock"))) as DenoLock;
  assert.deepEqual(new Set(Object.keys(serve.specifiers).map(npmName)), mapped);
  const differ = Object.entries(serve.npm).filter(([key, entry]) => dev.npm[key]?.integrity !== entry.integrity);
  assert.deepEqual(differ.map(([key]) => key), [], "serve.lock packages missing from deno.lock or locked differently");
  assert.deepEqual(Object.keys(serve.npm).filter((key) => isNativeSharp(npmName(key))), []);
});

Deno.test("every task but the service's own reads deno.lock", () => {
  const config = JSON.parse(Deno.readTextFileSync(join(REPO_ROOT, "deno.json")));
  // These run the service's module graph only (tests above and the frozen serve.lock hold them to it).
  const serving = new Set(["start", "setup", "classify", "embed", "index"]);
  const missing = Object.entries(config.tasks as Record<string, string>)
    .filter(([name]) => !serving.has(name))
    .flatMap(([name, task]) =>
      [...task.matchAll(/deno (run|test|check)( [^&]*)/g)]
        .filter((m) => !m[2]!.includes("--lock=deno.lock"))
        .map((m) => `${name}: deno ${m[1]}`)
    );
  assert.deepEqual(missing, []);
});
