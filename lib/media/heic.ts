/**
 * HEIC/HEIF stills -> the same preprocessed pixels as {@linkcode decodeImage}.
 *
 * sharp-wasm's libheif is built with AV1 only (AVIF), so HEVC-coded HEIF
 * (iPhone photos) is decoded by libheif-js (libheif 1.23 + libde265 compiled
 * to WASM), loaded on the first HEIC a process sees. Why libheif-js rather
 * than its wrapper `heic-decode`: `heic-decode` decodes the first *top-level*
 * image, which for a grid-tiled file whose tiles are not hidden is a tile
 * (Nokia's `grid_960x640.heic` gave 480x320) and for an image collection is
 * not necessarily the primary; the file's meaning is its primary item
 * (`pitm`), which libheif-js gives directly.
 *
 * Steps:
 * 1. Parse the boxes and take the primary item's handle. Its size is what the
 *    header declares after the item's transforms (`clap`, `irot`), so the
 *    pixel limit is checked here, before any pixel is decoded (decode_image
 *    has already checked the `ispe` sizes with `image-size`).
 * 2. Decode to interleaved RGBA. libheif applies `clap` (crop), `irot`
 *    (rotation) and `imir` (mirror) and assembles `grid` items from their
 *    tiles. EXIF Orientation is *not* applied on top: HEIF (ISO/IEC 23008-12)
 *    says the transformative properties are authoritative, and phones write
 *    an `irot` that matches their EXIF tag, so applying both would turn a
 *    portrait photo twice.
 * 3. Copy the pixels out of libheif's WASM heap, release its objects, and run
 *    the shared flatten / central crop / resize ({@linkcode preprocess}).
 *
 * Known limits of libheif-js 1.23.2, each a 422: AVC-coded HEIF
 * (`multilayer004`, "Support for this compression format has not been built
 * in") and a `clap` directly on a coded item combined with rotation
 * (`MIAF007`: libheif's own security check compares the uncropped size with a
 * limit derived from the cropped one).
 *
 * @module
 */

import { ProblemError } from "../errors.ts";
import { type DecodedImage, overLimit, preprocess } from "./preprocess_image.ts";
import { loadSharp } from "./sharp.ts";

/** Limits and output geometry of {@linkcode decodeHeic}, as {@linkcode decodeImage} passes them. */
export interface HeicLimits {
  /** Reject images whose primary item has more pixels than this. @default {40e6} */
  maxPixels?: number;
  /** Output side length in pixels. @default {224} */
  size?: number;
  /** Fraction of each side kept by the central crop. @default {0.875} */
  centralFraction?: number;
}

/** The parts of libheif-js's embind module used here (it ships no types for its CommonJS bundle). */
interface Libheif {
  heif_context_alloc(): Handle;
  heif_context_free(context: Handle): void;
  heif_context_read_from_memory(context: Handle, bytes: Uint8Array): { code: unknown; message: string };
  heif_js_context_get_primary_image_handle(context: Handle): Handle | LibheifError;
  heif_image_handle_get_width(handle: Handle): number;
  heif_image_handle_get_height(handle: Handle): number;
  heif_image_handle_release(handle: Handle): void;
  heif_js_decode_image2(handle: Handle, colorspace: unknown, chroma: unknown): Promise<DecodedHeif | LibheifError>;
  heif_image_release(image: Handle): void;
  heif_error_code: { heif_error_Ok: unknown };
  heif_colorspace: { heif_colorspace_RGB: unknown };
  heif_chroma: { heif_chroma_interleaved_RGBA: unknown };
  heif_channel: { heif_channel_interleaved: unknown };
}

// deno-lint-ignore ban-types
type Handle = {};
interface LibheifError {
  code: unknown;
  message: string;
}
interface DecodedHeif {
  image: Handle;
  channels: { id: unknown; width: number; height: number; stride: number; data: Uint8Array }[];
}

/** libheif-js answers a failed call with `{ code, message }` in place of the object asked for. */
function isError(value: object): value is LibheifError {
  return "message" in value && "code" in value;
}

let loaded: Promise<Libheif> | undefined;

/** libheif-js's WASM bundle, compiled on first use (~90 ms). */
function loadLibheif(): Promise<Libheif> {
  loaded ??= import("libheif-js/wasm-bundle.js").then((mod) => (mod.default ?? mod) as Libheif).catch((error) => {
    loaded = undefined;
    throw error;
  });
  return loaded;
}

function undecodable(detail: string): ProblemError {
  return new ProblemError(422, `Cannot decode HEIC: ${detail.split("\n")[0]!.slice(0, 200)}`);
}

/**
 * Decodes the primary image of a HEIC/HEIF file and preprocesses it as
 * {@linkcode decodeImage} does every other image.
 *
 * @param bytes The file as uploaded (sniffed as `heic`).
 * @param limits Pixel limit, output size and crop fraction.
 * @returns RGB pixels of the centrally cropped, resized primary image, and its size after `clap`/`irot`.
 * @throws {ProblemError} 422 for images over `maxPixels`, and for truncated,
 *   corrupt or unsupported (e.g. AVC-coded) files.
 *
 * @example
 * ```ts
 * const { pixels, width, height } = await decodeHeic(await Deno.readFile("IMG_0001.heic"));
 * ```
 */
export async function decodeHeic(bytes: Uint8Array, limits: HeicLimits = {}): Promise<DecodedImage> {
  const maxPixels = limits.maxPixels ?? 40e6;
  const size = limits.size ?? 224;
  const fraction = limits.centralFraction ?? 0.875;
  const heif = await loadLibheif();
  const context = heif.heif_context_alloc();
  let handle: Handle | undefined;
  let rgba: { data: Uint8Array; width: number; height: number };
  try {
    const read = heif.heif_context_read_from_memory(context, bytes);
    if (read.code !== heif.heif_error_code.heif_error_Ok) throw undecodable(read.message);
    const primary = heif.heif_js_context_get_primary_image_handle(context);
    if (!primary) throw undecodable("no primary image");
    if (isError(primary)) throw undecodable(primary.message);
    handle = primary;
    const width = heif.heif_image_handle_get_width(handle);
    const height = heif.heif_image_handle_get_height(handle);
    if (!(width > 0 && height > 0)) throw undecodable(`primary image is ${width}x${height}`);
    if (width * height > maxPixels) throw overLimit({ width, height }, maxPixels);
    const decoded = await heif.heif_js_decode_image2(
      handle,
      heif.heif_colorspace.heif_colorspace_RGB,
      heif.heif_chroma.heif_chroma_interleaved_RGBA,
    );
    if (!decoded) throw undecodable("decoder returned nothing");
    if (isError(decoded)) throw undecodable(decoded.message);
    try {
      const plane = decoded.channels.find((c) => c.id === heif.heif_channel.heif_channel_interleaved);
      if (!plane || plane.width !== width || plane.height !== height || plane.stride < width * 4) {
        throw undecodable(`decoder returned no ${width}x${height} RGBA plane`);
      }
      // A copy, row by row (rows may be padded to `stride`): `plane.data` is a view into libheif's WASM heap,
      // reused by the next decode once the image is released.
      const data = new Uint8Array(width * height * 4);
      for (let y = 0; y < height; y++) {
        data.set(plane.data.subarray(y * plane.stride, y * plane.stride + width * 4), y * width * 4);
      }
      rgba = { data, width, height };
    } finally {
      heif.heif_image_release(decoded.image);
    }
  } finally {
    if (handle) heif.heif_image_handle_release(handle);
    heif.heif_context_free(context);
  }
  const sharp = await loadSharp();
  const input = sharp(rgba.data, { raw: { width: rgba.width, height: rgba.height, channels: 4 } });
  return await preprocess(input, { width: rgba.width, height: rgba.height, size, fraction, shrinkOnLoad: false });
}
