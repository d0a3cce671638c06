/**
 * Runs Python snippets against scripts/report/*.py for the report's metric tests.
 */
import { fileURLToPath } from "node:url";

/** The interpreter the report uses. */
export const PYTHON = Deno.env.get("AMODAL_PYTHON") ?? "/usr/bin/python3";
const REPORT_DIR = fileURLToPath(new URL("../../../scripts/report/", import.meta.url));

/** Whether PYTHON has the given modules (tests are skipped with a warning otherwise). */
export async function pythonHas(modules: string): Promise<boolean> {
  try {
    const r = await new Deno.Command(PYTHON, { args: ["-c", `import ${modules}`], stdout: "null", stderr: "null" })
      .output();
    return r.success;
  } catch {
    return false;
  }
}

/**
 * Runs `code` with scripts/report on the import path and returns the JSON it prints last.
 *
 * @param code Python statements ending with `print(json.dumps(...))`.
 */
export async function py(code: string): Promise<unknown> {
  const r = await new Deno.Command(PYTHON, {
    args: ["-c", `import json, sys\nsys.path.insert(0, ${JSON.stringify(REPORT_DIR)})\n${code}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(r.stdout), err = new TextDecoder().decode(r.stderr);
  if (!r.success) throw new Error(`python failed:\n${err}`);
  return JSON.parse(out.trim().split("\n").at(-1)!);
}
