import assert from "node:assert/strict";
import { augmentImage, drawImageAugmentation } from "../../../scripts/embed/augment_image.ts";
import { createRandom } from "../../../scripts/shared/random.ts";
import { decodeImage } from "../../../lib/media/decode_image.ts";
import { keepAlive, loadSharp } from "../../../lib/media/sharp.ts";

Deno.test({
  name: "augmentImage() gives a deterministic, decodable view that differs from the original",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const sharp = await loadSharp();
    // A test image: left half red, right half blue, with transparency in one corner.
    const w = 64, h = 48, raw = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = (y * w + x) * 4;
        raw.set(x < w / 2 ? [220, 20, 20, 255] : [20, 20, 220, 255], o);
        if (x < 8 && y < 8) raw[o + 3] = 0;
      }
    }
    const png = new Uint8Array(
      await keepAlive(sharp(raw, { raw: { width: w, height: h, channels: 4 } }).png().toBuffer()),
    );
    const a = await augmentImage(png, createRandom("img#1").next);
    const b = await augmentImage(png, createRandom("img#1").next);
    assert.deepEqual(a, b);
    const original = await decodeImage(png);
    const view = await decodeImage(a);
    assert.equal(view.pixels.length, original.pixels.length);
    assert.notDeepEqual(view.pixels, original.pixels);
    for (let k = 0; k < 20; k++) {
      const p = drawImageAugmentation(createRandom(`k${k}`).next);
      assert.ok(p.crop.left >= 0 && p.crop.left + p.crop.width <= 1 + 1e-9, JSON.stringify(p));
      assert.ok(p.crop.top >= 0 && p.crop.top + p.crop.height <= 1 + 1e-9, JSON.stringify(p));
    }
  },
});
