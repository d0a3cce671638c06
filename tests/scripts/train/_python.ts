/**
 * Runs a snippet of the training code's Python for the tests of scripts/train/*.py.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { pythonPath } from "../../../scripts/setup/python.ts";

/** The Python the training scripts run with. */
export const PYTHON = pythonPath();
/** scripts/train/, put on Python's import path. */
export const TRAIN_DIR = fileURLToPath(new URL("../../../scripts/train/", import.meta.url));

/**
 * Runs `code` after `imports` with scripts/train on the import path and returns the JSON it prints last.
 *
 * @param imports Import lines (e.g. `import loso as L`).
 * @param code Python that prints a JSON object on its last line.
 * @returns That object.
 */
export async function runTrainPython(imports: string, code: string): Promise<Record<string, unknown>> {
  const r = await new Deno.Command(PYTHON, {
    args: ["-c", `import json, sys\nsys.path.insert(0, ${JSON.stringify(TRAIN_DIR)})\n${imports}\n${code}`],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) throw new Error(`python failed:\n${new TextDecoder().decode(r.stderr)}`);
  return JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").at(-1)!);
}
