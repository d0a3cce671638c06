/**
 * scripts/presence/train.py reads the evidence scripts/presence/extract.ts writes, and refuses any other.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { missingPython, pythonPath } from "../../../scripts/setup/python.ts";

const PYTHON = pythonPath();
const ROOT = new URL("../../../", import.meta.url).pathname;
const read = (path: string) => Deno.readTextFile(join(ROOT, path));

Deno.test("train.py reads the record format extract.ts writes", async () => {
  const written = (await read("scripts/presence/extract.ts")).match(/^const RECORD_FORMAT = (\d+);/m)?.[1];
  const reads = (await read("scripts/presence/train.py")).match(/^EVIDENCE_FORMAT = (\d+)/m)?.[1];
  assert.ok(written, "RECORD_FORMAT in extract.ts");
  assert.equal(reads, written);
});

Deno.test({
  name: "train.py refuses evidence of an older record format and says how to rebuild it",
  ignore: (await missingPython(["numpy", "sklearn"], PYTHON)).length > 0,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const manifest = JSON.parse(await read("models/manifest.json"));
      // A round-5 record: everything but `clickRatio`, which the click rule reads.
      const record = {
        format: 6,
        jointVersion: manifest.version,
        id: "gen/audio/silence/1s",
        modality: "audio",
        label: "none",
        source: "generated",
        group: "gen-silence",
        category: "silence",
      };
      await Deno.writeTextFile(join(dir, "evidence.jsonl"), JSON.stringify(record) + "\n");
      const out = await new Deno.Command(PYTHON, {
        args: [
          join(ROOT, "scripts/presence/train.py"),
          ...["--evidence", join(dir, "evidence.jsonl"), "--out", join(dir, "presence.json")],
          ...["--reports", join(dir, "reports"), "--fixture", join(dir, "parity.json")],
        ],
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.success, false);
      assert.match(stderr, /format\(s\) \['6'\].*run scripts\/presence\/extract\.ts first/s);
      await assert.rejects(Deno.stat(join(dir, "presence.json")));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
