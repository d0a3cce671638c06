/**
 * RGB bytes -> the real-valued input of a quantised-input image model.
 *
 * @module
 */

/** Quantisation parameters of a model input (from its encoder card). */
export interface InputQuantisation {
  /** Real value of one quantisation step (MobileNet: 1/128). */
  scale: number;
  /** Quantised value that represents 0.0 (MobileNet: 128). */
  zeroPoint: number;
}

/**
 * Dequantises pixels: `(q - zeroPoint) * scale` for every byte, the real
 * value a uint8-input TFLite model assigns to it. With MobileNet's
 * scale 1/128 and zero point 128 this maps 0..255 to [-1, 0.9921875].
 *
 * @param pixels RGB bytes, any layout (the order is kept).
 * @param quantisation `scale` and `zeroPoint` of the model's input tensor.
 * @returns A Float32Array the length of `pixels`.
 *
 * @example
 * ```ts
 * toImageTensor(new Uint8Array([0, 128, 255]), { scale: 1 / 128, zeroPoint: 128 }); // [-1, 0, 0.9921875]
 * ```
 */
export function toImageTensor(pixels: Uint8Array, quantisation: InputQuantisation): Float32Array {
  const { scale, zeroPoint } = quantisation;
  if (!(Number.isFinite(scale) && scale > 0)) throw new RangeError(`scale must be a positive number, got ${scale}`);
  if (!Number.isFinite(zeroPoint)) throw new RangeError(`zeroPoint must be a finite number, got ${zeroPoint}`);
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) out[i] = (pixels[i]! - zeroPoint) * scale;
  return out;
}
