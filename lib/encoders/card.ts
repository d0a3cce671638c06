/**
 * The model card of a pretrained encoder, one entry of `models/encoders.json`.
 *
 * Cards are data written by the converter; encoders read every constant
 * (input shape, preprocessing, output names) from them.
 *
 * @module
 */

import type { LogMelParams } from "../features/log_mel.ts";

/** How an audio encoder wants its input prepared. */
export interface AudioPreprocess {
  /** Input sample rate in Hz (the decoder delivers 16000). */
  sampleRate: number;
  /**
   * `log_mel_patches`: the graph reads `[N, frames, bands]` log-mel patches
   * computed by `lib/features/`; `waveform`: the graph reads
   * `[1, windowSamples]` raw samples and computes features itself.
   */
  kind: "log_mel_patches" | "waveform";
  /** Samples per analysis window (patch): 15600 for YAMNet. */
  windowSamples: number;
  /** Samples between window starts: 7680 for YAMNet. */
  hopSamples: number;
  /** Frames per patch (`log_mel_patches`): 96. */
  patchFrames?: number;
  /** Frames between patch starts (`log_mel_patches`): 48. */
  patchHop?: number;
  /** Added to every log-mel value before the graph (`log_mel_patches`). */
  offset?: number;
  /** Log-mel front end (`log_mel_patches`): YAMNet's `params.py` constants. */
  logMel?: LogMelParams;
  /** Free-text provenance of the chosen convention (e.g. how `offset` was measured). */
  note?: string;
}

/** How an image encoder wants its input prepared. */
export interface ImagePreprocess {
  /** Square input side in pixels. */
  size: number;
  /** Central crop fraction applied before resizing. */
  centralFraction: number;
  /** Real value of a pixel q is `(q - zeroPoint) * scale`. */
  scale: number;
  /** See `scale`. */
  zeroPoint: number;
}

/** A named output of the converted graph and where it came from. */
export interface CardOutput {
  /** Tensor name in the source TFLite graph. */
  tensor: string;
}

/** One pretrained encoder as described in `models/encoders.json`. */
export interface EncoderCard {
  /** Encoder name, e.g. `yamnet`, `mobilenet_v2`. */
  name: string;
  /** Which inputs it embeds. */
  modality: "audio" | "image";
  /** Source TFLite file name. */
  file: string;
  /** SHA-256 (hex) of the TFLite file. */
  sha256: string;
  /** Size of the TFLite file in bytes. */
  bytes: number;
  /** Pinned download URL of the TFLite file. */
  url: string;
  /** Licence of the weights. */
  license: string;
  /**
   * Graph input; a non-positive or non-numeric first dimension (`-1`, `null`,
   * `"N"`) means the batch is symbolic and several windows run in one call.
   */
  input: { name: string; shape: Array<number | string | null>; dtype: string };
  /** Graph outputs; the converted ONNX graph names them by these keys. */
  outputs: {
    embedding: CardOutput & { dim: number };
    scores?: CardOutput & { labels: string };
    log_mel?: CardOutput;
  };
  /** Input preparation constants. */
  preprocess: AudioPreprocess | ImagePreprocess;
}

/**
 * Whether the card's graph takes a symbolic batch dimension.
 *
 * @param card An encoder card.
 * @returns `true` if `input.shape[0]` is not a positive number.
 */
export function hasSymbolicBatch(card: EncoderCard): boolean {
  const batch = card.input.shape[0];
  return !(typeof batch === "number" && batch > 0);
}
