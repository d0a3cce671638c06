import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { join } from "node:path";
import { readCsv } from "../../../scripts/shared/csv.ts";

Deno.test("readCsv() keys rows by the header and keeps quoted cells whole", async () => {
  const cases: [string, string, Record<string, string>[]][] = [
    ["plain cells", "path,license\na.flac,MIT\n", [{ path: "a.flac", license: "MIT" }]],
    ["a comma inside quotes", 'path,license\na.flac,"CC-BY-3.0 (jakob, freesound 1)"\n', [
      { path: "a.flac", license: "CC-BY-3.0 (jakob, freesound 1)" },
    ]],
    ["doubled quotes inside quotes", 'path,license,sha\na.jpg,"per LICENSE (""public domain""), see",ab\n', [
      { path: "a.jpg", license: 'per LICENSE ("public domain"), see', sha: "ab" },
    ]],
    ["CRLF lines and a missing last cell", "path,license,category\r\na.flac,MIT\r\n", [
      { path: "a.flac", license: "MIT", category: "" },
    ]],
  ];
  const dir = await Deno.makeTempDir({ prefix: "amodal-csv-" });
  try {
    for (const [name, text, expected] of cases) {
      const path = join(dir, "manifest.csv");
      await Deno.writeTextFile(path, text);
      assertEquals(readCsv(path), expected, name);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
