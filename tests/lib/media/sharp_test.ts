import assert from "node:assert/strict";
import process from "node:process";
import { keepAlive, loadSharp } from "../../../lib/media/sharp.ts";

Deno.test("loadSharp() loads the WebAssembly build even with FFI allowed", async () => {
  const arch = process.arch;
  const sharp = await loadSharp();
  assert.ok("emscripten" in sharp.versions, `versions: ${Object.keys(sharp.versions).join(", ")}`);
  assert.equal(process.arch, arch, "process.arch is restored");
  assert.equal(await loadSharp(), sharp, "one instance per isolate");
});

Deno.test("keepAlive() lets a bare sharp promise settle inside deno test", async () => {
  const sharp = await loadSharp();
  const png = await keepAlive(
    sharp({ create: { width: 8, height: 8, channels: 3, background: "red" } }).png().toBuffer(),
  );
  const meta = await keepAlive(sharp(png).metadata());
  assert.deepEqual([meta.format, meta.width, meta.height], ["png", 8, 8]);
  await assert.rejects(keepAlive(sharp(new Uint8Array([1, 2, 3])).metadata()), /unsupported image format/);
});
