import assert from "node:assert/strict";
import { join } from "node:path";
import { readArtifact, REBUILD_COMMAND, sha256Hex } from "../../../lib/joint/artifact.ts";
import { readModelManifest } from "../../../lib/joint/model_manifest.ts";

Deno.test("readArtifact() returns verified bytes and refuses missing or corrupt files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bytes = new TextEncoder().encode('{"x":1}');
    await Deno.writeFile(join(dir, "a.json"), bytes);
    const sha256 = await sha256Hex(bytes);
    assert.deepEqual(await readArtifact(dir, { file: "a.json", sha256 }), bytes);
    const cases: [string, string, RegExp][] = [
      ["missing.json", sha256, /missing\.json.*(No such file|not found)/i],
      ["a.json", "0".repeat(64), /a\.json: sha256 [0-9a-f]{64} does not match 0{64}/],
    ];
    for (const [file, sha, message] of cases) {
      await assert.rejects(readArtifact(dir, { file, sha256: sha }), (e: Error) => {
        assert.match(e.message, message);
        assert.ok(e.message.includes(REBUILD_COMMAND), e.message);
        return true;
      });
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("sha256Hex() hashes like sha256sum", async () => {
  assert.equal(
    await sha256Hex(new TextEncoder().encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
});

Deno.test("readModelManifest() names the file and the rebuild command", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(
      readModelManifest(dir),
      (e: Error) => e.message.includes("manifest.json") && e.message.includes(REBUILD_COMMAND),
    );
    await Deno.writeTextFile(join(dir, "manifest.json"), '{"format":"amodal-models/1"}');
    await assert.rejects(readModelManifest(dir), /artifacts/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
