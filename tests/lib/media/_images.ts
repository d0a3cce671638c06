/**
 * Test images made by sharp (its WASM build, as the service uses).
 *
 * @module
 */
import { keepAlive, loadSharp } from "../../../lib/media/sharp.ts";

/** Formats sharp-wasm writes that the service accepts. */
export type WritableImageFormat = "jpeg" | "png" | "webp" | "gif" | "avif" | "tiff";

/**
 * A `width` x `height` image: left half red, right half blue, top-left
 * quadrant green; distinct enough to check orientation and crops.
 */
export function quadrants(width: number, height: number, channels: 3 | 4 = 3): Uint8Array {
  const px = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      const rgb = x < width / 2 ? (y < height / 2 ? [0, 255, 0] : [255, 0, 0]) : [0, 0, 255];
      px.set(rgb, i);
      if (channels === 4) px[i + 3] = 255;
    }
  }
  return px;
}

/** Encodes raw pixels in a format, optionally with an EXIF orientation tag. */
export async function encodeImage(
  pixels: Uint8Array,
  raw: { width: number; height: number; channels: 1 | 3 | 4 },
  format: WritableImageFormat,
  options: { orientation?: number; quality?: number } = {},
): Promise<Uint8Array> {
  const sharp = await loadSharp();
  let image = sharp(pixels, { raw });
  if (options.orientation) image = image.withMetadata({ orientation: options.orientation });
  const out = await keepAlive(image.toFormat(format, { quality: options.quality ?? 90 }).toBuffer());
  // A copy: sharp-wasm's Buffer is a view into its WASM heap, reused once the Buffer is collected (a view of it
  // once decoded as garbage in a full test run).
  return new Uint8Array(out);
}
