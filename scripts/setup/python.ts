/**
 * The Python stages' requirements, pinned in one place
 * (`scripts/setup/requirements.json`: Debian package -> Python module), and
 * the checks every Python user shares: training, the report and their tests.
 *
 * @module
 */
import { denoTask, loadConfig } from "../../lib/config.ts";
import requirements from "./requirements.json" with { type: "json" };

/** One requirement: the Debian package and the module it provides. */
export interface PythonRequirement {
  debian: string;
  module: string;
}

/** Every requirement, in install order. */
export const PYTHON_REQUIREMENTS: readonly PythonRequirement[] = requirements.python;

/** The command that installs what is missing (as root it needs no sudo). */
export const SETUP_COMMAND: string = `sudo ${denoTask("setup")}`;

/** The interpreter: `AMODAL_PYTHON`, default `/usr/bin/python3`. */
export function pythonPath(): string {
  return loadConfig().python;
}

/**
 * Which of `modules` the interpreter cannot import (each tried on its own,
 * so one broken module does not hide the others).
 *
 * @param modules Python module names, e.g. `["torch", "sklearn"]`.
 * @param python Interpreter. @default pythonPath()
 * @returns The requirements whose module is missing (all of them when the interpreter does not run).
 *
 * @example
 * ```ts
 * const missing = await missingPython(["numpy", "torch"]);
 * if (missing.length > 0) console.log(pythonMessage(missing));
 * ```
 */
export async function missingPython(
  modules: readonly string[],
  python: string = pythonPath(),
): Promise<PythonRequirement[]> {
  const wanted = modules.map((module) =>
    PYTHON_REQUIREMENTS.find((r) => r.module === module) ?? { debian: `python3-${module}`, module }
  );
  const code = "import importlib, json, sys\nmissing = []\nfor m in sys.argv[1:]:\n" +
    "    try:\n        importlib.import_module(m)\n    except Exception:\n        missing.append(m)\n" +
    "print(json.dumps(missing))";
  try {
    const r = await new Deno.Command(python, { args: ["-c", code, ...modules], stdout: "piped", stderr: "null" })
      .output();
    if (!r.success) return wanted;
    const missing = JSON.parse(new TextDecoder().decode(r.stdout).trim().split("\n").at(-1) ?? "[]") as string[];
    return wanted.filter((w) => missing.includes(w.module));
  } catch {
    return wanted; // no such interpreter
  }
}

/**
 * One line naming what is missing and how to get it.
 *
 * @param missing From {@link missingPython}.
 * @param python Interpreter checked. @default pythonPath()
 */
export function pythonMessage(missing: readonly PythonRequirement[], python: string = pythonPath()): string {
  return `${python} lacks ${missing.map((m) => `${m.module} (Debian ${m.debian})`).join(", ")}; ` +
    `install with \`${SETUP_COMMAND}\` (or apt-get install ${missing.map((m) => m.debian).join(" ")}), ` +
    "or set AMODAL_PYTHON to an interpreter that has them";
}

/**
 * Throws one clear error (no Python traceback) when the interpreter lacks a module.
 *
 * @param modules Modules the caller's Python stage imports.
 * @param what What needs them, for the message, e.g. "Training".
 * @throws {Error} naming the exact missing packages and the setup command.
 */
export async function requirePython(modules: readonly string[], what: string): Promise<string> {
  const python = pythonPath();
  const missing = await missingPython(modules, python);
  if (missing.length > 0) {
    throw new Error(`${what} needs Python modules that are missing: ${pythonMessage(missing, python)}.`);
  }
  return python;
}
