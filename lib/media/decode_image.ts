/**
 * Any supported image -> MobileNet-ready RGB pixels.
 *
 * Preprocessing (the eval path of the TF-slim/Keras MobileNet models, which
 * is what the pretrained image encoders were evaluated with):
 *
 * 1. Sniff the format from magic bytes; read only the header and reject
 *    images over `maxPixels` with a 422 before any pixel is decoded: first
 *    in plain JS ({@linkcode declaredPixels}), because sharp's own header
 *    read is not always cheap (a 7.5 kB WebP claiming 11392x10742 grew its
 *    WASM heap by ~470 MB in `metadata()` alone, found by `deno task fuzz`),
 *    then sharp's `metadata()` for orientation and frames, with sharp's
 *    `limitInputPixels` set as a last guard.
 * 2. Decode with sharp's WebAssembly libvips (see `sharp.ts`). Multi-frame
 *    inputs (animated GIF/WebP, multi-page TIFF) yield their first frame.
 * 3. Apply the EXIF orientation, so the crop is taken from the image as a
 *    person sees it.
 * 4. Flatten transparency onto white (a PNG cut-out of an instrument
 *    otherwise gets whatever colour its transparent pixels happen to hold).
 * 5. Central crop keeping `centralFraction` (0.875) of each side, with
 *    `tf.image.central_crop` arithmetic: `start = trunc((n - n * f) / 2)`,
 *    `size = n - 2 * start`, computed on the oriented dimensions.
 * 6. Resize the crop to `size` x `size` (224) ignoring aspect ratio, as
 *    `tf.image.resize` to [224, 224] does. Kernel: libvips `linear`, i.e.
 *    bilinear interpolation whose triangle filter widens with the
 *    reduction factor, so large downscales are anti-aliased; TF's
 *    `resize_bilinear` samples only the 4 nearest pixels and aliases there.
 *    When enlarging (small photos), libvips samples source position
 *    `x * in / out - 0.5`: plain bilinear, on a grid half an output pixel
 *    off the centre-aligned one (TF's legacy `resize_bilinear` is off by
 *    half a pixel the other way, at `x * in / out`); the tests pin this
 *    against an independent implementation. Training features come from
 *    this same function, so train and serve agree.
 * 7. Output 8-bit sRGB, row-major HWC (grey, CMYK and 16-bit inputs are
 *    converted).
 *
 * Speed: libvips can decode a JPEG (and WebP) at 1/2, 1/4 or 1/8 scale
 * ("shrink-on-load"), but only when the resize comes before any crop. When
 * the crop is at least twice the output size on both sides, the order is
 * therefore swapped: the whole image is resized so that the crop box maps
 * to exactly `size` pixels, and the central `size` x `size` is then cut
 * out. The crop edge moves by at most half an output pixel; measured on a
 * 1280x960 JPEG this takes ~14 ms instead of ~25 ms.
 *
 * @module
 */

import { imageSize } from "image-size";
import { ProblemError } from "../errors.ts";
import { keepAlive, loadSharp } from "./sharp.ts";
import { sniff } from "./sniff.ts";

/** Options of {@linkcode decodeImage}. */
export interface DecodeImageOptions {
  /** Reject images with more pixels than this (width x height of one frame). @default {40e6} */
  maxPixels?: number;
  /** Output side length in pixels. @default {224} */
  size?: number;
  /** Fraction of each side kept by the central crop, in (0, 1]. @default {0.875} */
  centralFraction?: number;
}

/** A decoded, preprocessed image. */
export interface DecodedImage {
  /** `size * size * 3` bytes, RGB, row-major HWC. */
  pixels: Uint8Array;
  /** Width of the input image after EXIF orientation. */
  width: number;
  /** Height of the input image after EXIF orientation. */
  height: number;
}

/** Formats with libvips shrink-on-load. */
const SHRINK_ON_LOAD = new Set(["jpeg", "webp"]);

/**
 * Decodes and preprocesses an image for the MobileNet image encoders.
 *
 * @param bytes The file as uploaded.
 * @param options Pixel limit, output size and crop fraction.
 * @returns RGB pixels of the centrally cropped, resized image, and the input's size.
 * @throws {ProblemError} 415 for bytes that are not a supported image
 *   format, 422 for images over `maxPixels` and for corrupt, truncated or
 *   otherwise undecodable ones.
 *
 * @example
 * ```ts
 * const { pixels } = await decodeImage(await Deno.readFile("banjo.jpg")); // 224 * 224 * 3 bytes
 * ```
 */
export async function decodeImage(bytes: Uint8Array, options: DecodeImageOptions = {}): Promise<DecodedImage> {
  const maxPixels = options.maxPixels ?? 40e6;
  const size = options.size ?? 224;
  const fraction = options.centralFraction ?? 0.875;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`size must be a positive integer, got ${size}`);
  if (!(fraction > 0 && fraction <= 1)) throw new RangeError(`centralFraction must be in (0, 1], got ${fraction}`);

  const kind = sniff(bytes);
  if (kind?.modality !== "image") {
    const what = kind ? `got ${kind.format} audio` : `first bytes ${hex(bytes)}`;
    throw new ProblemError(415, `Not a supported image format (${what})`);
  }
  const declared = declaredPixels(bytes);
  if (declared !== undefined && declared.width * declared.height > maxPixels) throw overLimit(declared, maxPixels);
  const sharp = await loadSharp();

  // 1. Header only: dimensions and orientation, no pixel data.
  const meta = await undecodable(keepAlive(sharp(bytes, { limitInputPixels: false }).metadata()));
  const frameHeight = meta.pageHeight ?? meta.height;
  if (!meta.width || !frameHeight) throw new ProblemError(422, "Cannot decode image: no dimensions in header");
  if (meta.width * frameHeight > maxPixels) throw overLimit({ width: meta.width, height: frameHeight }, maxPixels);
  const rotated = meta.orientation !== undefined && meta.orientation >= 5; // 5..8 swap the axes
  const width = rotated ? frameHeight : meta.width;
  const height = rotated ? meta.width : frameHeight;

  // 5. tf.image.central_crop box.
  const left = Math.trunc((width - width * fraction) / 2);
  const top = Math.trunc((height - height * fraction) / 2);
  const crop = { left, top, width: width - 2 * left, height: height - 2 * top };

  // 2.-4. and 6.-7.
  let pipeline = sharp(bytes, { limitInputPixels: maxPixels, autoOrient: true, pages: 1 })
    .flatten({ background: "#ffffff" });
  if (SHRINK_ON_LOAD.has(kind.format) && crop.width >= 2 * size && crop.height >= 2 * size) {
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
 * Width and height as the file's header states them, read in plain JS
 * (`image-size`) without decoding anything; `undefined` when it cannot tell
 * (the caller then relies on sharp's checks).
 *
 * @param bytes An image file.
 * @returns The declared size of the (first) image.
 *
 * @example
 * ```ts
 * declaredPixels(await Deno.readFile("photo.webp")); // { width: 1280, height: 960 }
 * ```
 */
export function declaredPixels(bytes: Uint8Array): { width: number; height: number } | undefined {
  try {
    const { width, height } = imageSize(bytes);
    return width > 0 && height > 0 ? { width, height } : undefined;
  } catch {
    return undefined;
  }
}

function overLimit(size: { width: number; height: number }, maxPixels: number): ProblemError {
  const pixels = size.width * size.height;
  return new ProblemError(
    422,
    `Image is ${size.width}x${size.height} = ${pixels} pixels, over the limit of ${maxPixels}`,
    { extensions: { limit: maxPixels, pixels } },
  );
}

/**
 * Maps sharp's (libvips') rejection of the input to a 422 with its message. A WebAssembly trap or Emscripten abort
 * is not the input's fault and may leave the module unusable, so it is passed on for the caller to give this sharp
 * up (`lib/worker/decode_first.ts`, `lib/worker/serve_jobs.ts`).
 */
async function undecodable<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof ProblemError || error instanceof WebAssembly.RuntimeError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new ProblemError(422, `Cannot decode image: ${message.split("\n")[0]!.slice(0, 200)}`);
  }
}

function hex(bytes: Uint8Array): string {
  if (bytes.length === 0) return "(empty)";
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
}
