/**
 * Runs Python snippets against scripts/report/*.py for the report's metric tests.
 */
import { fileURLToPath } from "node:url";
import { missingPython, pythonPath } from "../../../scripts/setup/python.ts";

/** The interpreter the report uses (`AMODAL_PYTHON`, default /usr/bin/python3). */
export const PYTHON = pythonPath();
const REPORT_DIR = fileURLToPath(new URL("../../../scripts/report/", import.meta.url));

/**
 * Whether PYTHON has the given modules. Tests without them are skipped
 * (`ignore`) silently: `deno task setup`, run first by `deno task test`,
 * prints the one line that names the missing packages and the command.
 *
 * @param modules Comma-separated module names, e.g. "numpy, sklearn".
 */
export async function pythonHas(modules: string): Promise<boolean> {
  return (await missingPython(modules.split(",").map((m) => m.trim()), PYTHON)).length === 0;
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
