/**
 * Image augmentation for the training splits: a random horizontal flip, crop and colour jitter
 * applied with sharp (the service's WASM build, via `loadSharp`) to the original file, written as PNG and then decoded by the service's own
 * `decodeImage` (so the MobileNet preprocessing is exactly the serving one).
 *
 * @module
 */
import { keepAlive, loadSharp } from "../../lib/media/sharp.ts";
import { uniform } from "../shared/random.ts";

/** What one augmented view did. */
export interface ImageAugmentation {
  flip: boolean;
  /** Crop box as fractions of the (orientation-corrected) image. */
  crop: { left: number; top: number; width: number; height: number };
  brightness: number;
  saturation: number;
  hue: number;
  contrast: number;
}

/**
 * Draws one random augmentation (pure: the same generator state gives the same view).
 *
 * @param rand A seeded generator.
 * @returns The augmentation parameters.
 */
export function drawImageAugmentation(rand: () => number): ImageAugmentation {
  const width = uniform(rand, 0.6, 1), height = Math.min(1, width * uniform(rand, 0.8, 1.25));
  return {
    flip: rand() < 0.5,
    crop: { left: uniform(rand, 0, 1 - width), top: uniform(rand, 0, 1 - height), width, height },
    brightness: uniform(rand, 0.75, 1.25),
    saturation: uniform(rand, 0.6, 1.4),
    hue: Math.round(uniform(rand, -15, 15)),
    contrast: uniform(rand, 0.8, 1.2),
  };
}

/**
 * Produces one augmented view of an image file.
 *
 * @param bytes The original image file.
 * @param rand A seeded generator (`createRandom(id + view).next`).
 * @returns PNG bytes of the augmented image.
 *
 * @example
 * ```ts
 * const png = await augmentImage(await Deno.readFile("photo.jpg"), createRandom("photo#1").next);
 * const { pixels } = await decodeImage(png);
 * ```
 */
export async function augmentImage(bytes: Uint8Array, rand: () => number): Promise<Uint8Array> {
  const a = drawImageAugmentation(rand);
  const sharp = await loadSharp();
  // Bake EXIF orientation first so the crop box refers to the upright image; flatten alpha on
  // white as decodeImage would, so the colour ops never touch an alpha channel.
  const upright = await keepAlive(
    sharp(bytes).rotate().flatten({ background: "#ffffff" }).png().toBuffer({ resolveWithObject: true }),
  );
  const { width: w, height: h } = upright.info;
  const box = {
    left: Math.floor(a.crop.left * w),
    top: Math.floor(a.crop.top * h),
    width: Math.max(1, Math.floor(a.crop.width * w)),
    height: Math.max(1, Math.floor(a.crop.height * h)),
  };
  box.width = Math.min(box.width, w - box.left);
  box.height = Math.min(box.height, h - box.top);
  let img = sharp(upright.data).extract(box);
  if (a.flip) img = img.flop();
  const out = await keepAlive(
    img
      .modulate({ brightness: a.brightness, saturation: a.saturation, hue: a.hue })
      .linear(a.contrast, 128 * (1 - a.contrast))
      .png({ compressionLevel: 1 })
      .toBuffer(),
  );
  // A copy: sharp-wasm's Buffer is a view into its WASM heap, reused once the Buffer is collected.
  return new Uint8Array(out);
}
