/**
 * Gathers what `/v1/models` and `/v1/labels` report, once at start.
 *
 * @module
 */
import { join } from "node:path";
import type { Config } from "./config.ts";
import type { EncoderCard } from "./encoders/card.ts";
import { LABELS } from "./labels.ts";

/** Static facts about the deployed models, gathered at start. */
export interface ServiceInfo {
  /** Encoder cards (name, source, sha256, input spec, output dim). */
  encoders: unknown[];
  /** Trained joint-space artifacts from models/manifest.json, if deployed. */
  joint?: Record<string, unknown>;
  /** Instrument labels the classifier predicts. */
  labels: string[];
}

/**
 * Reads the trained-artifact manifest (if any) and summarises the encoders.
 *
 * @param config Service configuration (models dir).
 * @param cards The encoders being served.
 * @returns Facts for the metadata routes.
 */
export async function readServiceInfo(config: Config, cards: EncoderCard[]): Promise<ServiceInfo> {
  let joint: Record<string, unknown> | undefined;
  try {
    joint = JSON.parse(await Deno.readTextFile(join(config.modelsDir, "manifest.json")));
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  // Headline numbers of `deno task report` (reports/latest/), quoted next to the model they describe.
  if (joint) {
    try {
      joint.report = JSON.parse(await Deno.readTextFile(join(config.modelsDir, "metrics.json")));
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
  const labels = (joint?.labels as string[] | undefined) ?? [...LABELS];
  return {
    encoders: cards.map((card) => ({
      name: card.name,
      modality: card.modality,
      source: card.url,
      file: card.file,
      sha256: card.sha256,
      license: card.license,
      input: card.input,
      dim: card.outputs.embedding.dim,
    })),
    ...(joint ? { joint } : {}),
    labels,
  };
}
