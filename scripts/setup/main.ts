/**
 * `deno task setup` (run first by `deno task test`): installs the Python
 * stages' Debian packages (`scripts/setup/requirements.json`) when they are
 * missing and this process can (root, `apt-get` present, default
 * interpreter). Quiet and quick when everything is there. Where it cannot
 * install, it prints one line naming the packages and the command, and exits
 * 0: the tests that need Python are then skipped, nothing else changes.
 *
 * @module
 */
import { existsSync } from "node:fs";
import { missingPython, PYTHON_REQUIREMENTS, pythonMessage, pythonPath } from "./python.ts";

const APT_GET = "/usr/bin/apt-get";

async function aptGet(args: string[]): Promise<boolean> {
  const r = await new Deno.Command(APT_GET, {
    args,
    env: { DEBIAN_FRONTEND: "noninteractive" },
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!r.success) {
    console.error(`setup: apt-get ${args[0]} failed: ${new TextDecoder().decode(r.stderr).trim().slice(-500)}`);
  }
  return r.success;
}

if (import.meta.main) {
  const python = pythonPath();
  const all = PYTHON_REQUIREMENTS.map((r) => r.module);
  let missing = await missingPython(all, python);
  if (missing.length > 0 && python === "/usr/bin/python3" && Deno.uid() === 0 && existsSync(APT_GET)) {
    const packages = missing.map((m) => m.debian);
    console.error(`setup: installing ${packages.join(" ")} (apt-get)...`);
    if (await aptGet(["update", "-qq"])) {
      await aptGet(["install", "-y", "-qq", "--no-install-recommends", ...packages]);
    }
    missing = await missingPython(all, python);
  }
  if (missing.length > 0) {
    console.error(`setup: Python stages unavailable, their tests will be skipped: ${pythonMessage(missing, python)}.`);
  }
}
