/**
 * The project runs no program outside Deno and npm except where allowed:
 * every `new Deno.Command(<program>` in the tree must name Deno itself, the
 * Python interpreter of the offline stages, `apt-get` in the set-up script,
 * or `git` (provenance, optional).
 */
import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { join, relative } from "node:path";
import { REPO_ROOT } from "../lib/config.ts";

/** File -> programs (the first argument's source text) it may run. */
const ALLOWED: readonly { program: RegExp; files: RegExp; why: string }[] = [
  { program: /^Deno\.execPath\(\)$/, files: /./, why: "Deno itself" },
  {
    program: /^(python|PYTHON)$/,
    files:
      /^(scripts\/(train|report|setup)\/|scripts\/embed\/extract_patches\.ts$|tests\/scripts\/(train|report|cli|presence)\/)/,
    why: "Python stages (and the ONNX graph surgery of the per-patch extraction, scripts/embed/patch_graph.py)",
  },
  { program: /^APT_GET$/, files: /^scripts\/setup\/main\.ts$/, why: "set-up installs the Python stages' packages" },
  { program: /^"git"$/, files: /^scripts\/report\/main\.ts$/, why: "provenance, degrades without a repository" },
];

/** Source text of the first argument of a call whose "(" ends just before `start` (parentheses balanced). */
function firstArgument(text: string, start: number): string {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i]!;
    if (c === "(" || c === "[" || c === "{") depth++;
    else if ((c === ")" || c === "]" || c === "}") && depth > 0) depth--;
    else if ((c === "," || c === ")") && depth === 0) return text.slice(start, i).trim();
  }
  return text.slice(start).trim();
}

async function* sources(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    if (e.isDirectory && !["node_modules", "data", ".cache", "fixtures"].includes(e.name)) yield* sources(path);
    else if (e.isFile && /\.(ts|js|mjs)$/.test(e.name)) yield path;
  }
}

Deno.test("every Deno.Command runs Deno, the Python interpreter, apt-get in set-up, or git", async () => {
  const found: string[] = [];
  const bad: string[] = [];
  for (const root of ["lib", "routes", "scripts", "tests", "main.ts"]) {
    const paths = root.endsWith(".ts") ? [join(REPO_ROOT, root)] : [];
    if (!root.endsWith(".ts")) { for await (const p of sources(join(REPO_ROOT, root))) paths.push(p); }
    for (const path of paths) {
      const file = relative(REPO_ROOT, path);
      if (file === "tests/programs_test.ts") continue;
      const text = await Deno.readTextFile(path);
      for (const m of text.matchAll(/new\s+Deno\.Command\(/g)) {
        const program = firstArgument(text, m.index! + m[0].length);
        found.push(`${file}: ${program}`);
        if (!ALLOWED.some((a) => a.program.test(program) && a.files.test(file))) bad.push(`${file}: ${program}`);
      }
      // Other ways to start a process would dodge the check.
      for (const m of text.matchAll(/\b(child_process|Deno\.run\(|spawnSync|execSync)\b/g)) {
        bad.push(`${file}: ${m[0]}`);
      }
    }
  }
  ok(found.length > 10, `only ${found.length} Deno.Command calls found: the scan is broken`);
  assertEquals(bad, [], `programs outside Deno, Python, set-up apt-get and git:\n${bad.join("\n")}`);
});
