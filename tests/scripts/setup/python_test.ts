import { deepStrictEqual as assertEquals, match, ok, rejects } from "node:assert/strict";
import { missingPython, PYTHON_REQUIREMENTS, pythonMessage, requirePython } from "../../../scripts/setup/python.ts";

Deno.test("PYTHON_REQUIREMENTS pins each Debian package once, with its module", () => {
  const names = PYTHON_REQUIREMENTS.map((r) => r.debian);
  assertEquals(new Set(names).size, names.length);
  for (const r of PYTHON_REQUIREMENTS) match(r.debian, /^python3-[a-z0-9-]+$/);
  ok(names.includes("python3-torch") && names.includes("python3-sklearn"));
});

Deno.test("missingPython() names exactly the modules an interpreter lacks", async () => {
  assertEquals(
    (await missingPython(["numpy", "torch"], "/nonexistent/python3")).map((m) => m.debian),
    ["python3-numpy", "python3-torch"],
  );
  const missing = await missingPython(["json", "amodal_no_such_module"], "/usr/bin/python3");
  assertEquals(missing, [{ debian: "python3-amodal_no_such_module", module: "amodal_no_such_module" }]);
});

Deno.test("requirePython() fails with one line naming the package and the setup command, no traceback", async () => {
  const saved = Deno.env.get("AMODAL_PYTHON");
  Deno.env.set("AMODAL_PYTHON", "/nonexistent/python3");
  try {
    await rejects(requirePython(["sklearn"], "Training"), (e: Error) => {
      assertEquals(
        e.message,
        `Training needs Python modules that are missing: ${
          pythonMessage([{ debian: "python3-sklearn", module: "sklearn" }], "/nonexistent/python3")
        }.`,
      );
      ok(!e.message.includes("Traceback") && !e.message.includes("\n"));
      match(e.message, /python3-sklearn.*deno@2\.9\.6 task setup/);
      return true;
    });
  } finally {
    if (saved === undefined) Deno.env.delete("AMODAL_PYTHON");
    else Deno.env.set("AMODAL_PYTHON", saved);
  }
});
