/**
 * The image preprocessing every decoder shares (steps 4.-7. of `decode_image.ts`): flatten, central crop,
 * resize and 8-bit sRGB HWC with sharp, plus the errors image decoders answer with. Apart from
 * `decode_image.ts` so that the lazily loaded HEIC decoder can use it without an import cycle.
 *
 * @module
 */
import type { Sharp } from "sharp";
import { ProblemError } from "../errors.ts";
import { keepAlive } from "./sharp.ts";

/** A decoded, preprocessed image. */
export interface DecodedImage {
  /** `size * size * 3` bytes, RGB, row-major HWC. */
  pixels: Uint8Array;
  /** Width of the input image after EXIF orientation. */
  width: number;
  /** Height of the input image after EXIF orientation. */
  height: number;
}

/**
 * Steps 4.-7. of the module doc (flatten, central crop, resize, 8-bit sRGB
 * HWC) on an input already oriented as a person sees it, for decoders that
 * produce pixels themselves (HEIC) as well as for sharp's own inputs.
 *
 * @param input A sharp pipeline reading the image (file bytes, or `raw` pixels).
 * @param geometry The oriented input size, output size, crop fraction, and
 *   whether libvips can shrink this input on load (JPEG, WebP).
 * @returns The preprocessed pixels and the oriented input size.
 *
 * @example
 * ```ts
 * const sharp = await loadSharp();
 * const input = sharp(rgba, { raw: { width: 640, height: 480, channels: 4 } });
 * const { pixels } = await preprocess(input, { width: 640, height: 480, size: 224, fraction: 0.875, shrinkOnLoad: false });
 * ```
 */
export async function preprocess(
  input: Sharp,
  geometry: { width: number; height: number; size: number; fraction: number; shrinkOnLoad: boolean },
): Promise<DecodedImage> {
  const { width, height, size, fraction } = geometry;
  // 5. tf.image.central_crop box.
  const left = Math.trunc((width - width * fraction) / 2);
  const top = Math.trunc((height - height * fraction) / 2);
  const crop = { left, top, width: width - 2 * left, height: height - 2 * top };

  // 2.-4. and 6.-7.
  let pipeline = input.flatten({ background: "#ffffff" });
  if (geometry.shrinkOnLoad && crop.width >= 2 * size && crop.height >= 2 * size) {
    // Resize first (enables shrink-on-load) so the crop box becomes size x size, then cut it out.
    const marginX = Math.round(left * size / crop.width);
    const marginY = Math.round(top * size / crop.height);
    pipeline = pipeline
      .resize(size + 2 * marginX, size + 2 * marginY, { fit: "fill", kernel: "linear" })
      .extract({ left: marginX, top: marginY, width: size, height: size });
  } else {
    pipeline = pipeline
      .extract(crop)
      .resize(size, size, { fit: "fill", kernel: "linear" });
  }
  const { data, info } = await undecodable(keepAlive(
    pipeline.removeAlpha().toColourspace("srgb").raw({ depth: "uchar" }).toBuffer({ resolveWithObject: true }),
  ));
  if (info.width !== size || info.height !== size || info.channels !== 3 || data.length !== size * size * 3) {
    throw new Error(
      `sharp returned ${info.width}x${info.height}x${info.channels} (${data.length} bytes), expected ${size}x${size}x3`,
    );
  }
  // A copy: sharp-wasm's Buffer is a view into its WASM heap, freed (and reused) once that Buffer object is collected,
  // so a view of its bytes that outlives it can read another operation's data.
  return { pixels: new Uint8Array(data), width, height };
}

/**
 * The 422 for an image whose header declares more than `maxPixels` pixels.
 *
 * @param size The declared width and height.
 * @param maxPixels The limit it exceeds.
 * @returns A problem with `limit` and `pixels` extensions.
 */
export function overLimit(size: { width: number; height: number }, maxPixels: number): ProblemError {
  const pixels = size.width * size.height;
  return new ProblemError(
    422,
    `Image is ${size.width}x${size.height} = ${pixels} pixels, over the limit of ${maxPixels}`,
    { extensions: { limit: maxPixels, pixels } },
  );
}

/**
 * Maps sharp's (libvips') rejection of the input to a 422 with its message.
 *
 * @param work A sharp operation.
 * @returns Its result.
 * @throws {ProblemError} 422 naming what libvips refused.
 */
export async function undecodable<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    // A WebAssembly trap or Emscripten abort is not the input's fault and may leave the module unusable: the
    // caller gives this sharp up (lib/worker/decode_first.ts, lib/worker/serve_jobs.ts).
    if (error instanceof ProblemError || error instanceof WebAssembly.RuntimeError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ProblemError(422, `Cannot decode image: ${message.split("\n")[0]!.slice(0, 200)}`);
  }
}
