import assert from "node:assert/strict";
import { runPooled } from "../../../lib/encoders/run_pooled.ts";
import { encoder, WEIGHTS_DIR } from "./_encoders.ts";
import { join } from "node:path";

// Long clips run in several batches (at most 16 patches each); pooling must not depend on the split.
Deno.test("runPooled() pools a stack larger than one batch like one-by-one runs", async () => {
  const { card, session } = await encoder("yamnet");
  const spectra = await Deno.readFile(join(WEIGHTS_DIR, "fixtures/yamnet_test_spectra.bin"));
  const patch = new Float32Array(spectra.buffer, spectra.byteOffset, 96 * 64);
  const count = 37; // 3 batches: 13 + 13 + 11
  const data = new Float32Array(count * patch.length);
  // Distinct patches: the fixture shifted by a per-patch offset.
  for (let i = 0; i < count; i++) data.set(patch.map((v) => v + 0.05 * i), i * patch.length);
  const pooled = (await runPooled(session, card, data, count, [96, 64], ["embedding"])).mean.embedding!;
  const sum = new Float64Array(pooled.length);
  for (let i = 0; i < count; i++) {
    const one = (await runPooled(session, card, data.subarray(i * patch.length, (i + 1) * patch.length), 1, [96, 64], [
      "embedding",
    ])).mean.embedding!;
    one.forEach((v, j) => (sum[j] = sum[j]! + v));
  }
  const maxDiff = Math.max(...Array.from(pooled, (v, j) => Math.abs(v - sum[j]! / count)));
  assert.ok(maxDiff < 1e-5, `max abs diff ${maxDiff}`);
});
