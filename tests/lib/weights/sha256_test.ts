import assert from "node:assert/strict";
import { sha256Hex } from "../../../lib/weights/sha256.ts";

Deno.test("sha256Hex() matches FIPS 180-2 test vectors", async () => {
  const cases: Array<[string, string]> = [
    ["", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"],
    ["abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"],
  ];
  for (const [text, hex] of cases) assert.equal(await sha256Hex(new TextEncoder().encode(text)), hex);
});
