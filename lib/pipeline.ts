/**
 * bytes -> media -> features -> encoder -> joint space -> classifier (-> presence: is there an instrument?).
 *
 * {@linkcode encodeFile} is the stage chain up to the encoder, shared by the service and by training's
 * embedding extraction (which injects its augmentation); a {@linkcode Pipeline} adds the trained joint
 * space on top. Each stage is timed once, for the `Server-Timing` header.
 *
 * @module
 */
import type { Config } from "./config.ts";
import { ProblemError } from "./errors.ts";
import { decodeMedia, type DecodeMediaOptions, type Media, type Modality } from "./media/decode_media.ts";
import { audioInput, imageInput } from "./features/encoder_input.ts";
import { createSession, type Session } from "./backend/onnx.ts";
import { encode, type EncoderOutput, type EncoderOutputs } from "./encoders/encode.ts";
import type { EncoderCard, ImagePreprocess } from "./encoders/card.ts";
import { type JointSpace, loadJointSpace } from "./joint/joint_space.ts";
import { loadPresence, type Presence, type PresenceDecision, type PresenceEvidence } from "./classify/presence.ts";

export type { Modality };

/** Milliseconds spent per stage. */
export type Timings = Record<string, number>;

/** Seconds of audio received and analysed. */
export interface AudioFacts {
  durationSeconds: number;
  analysedSeconds: number;
  truncated: boolean;
}

/** Result of {@linkcode Pipeline.embed}. */
export interface EmbedResult {
  modality: Modality;
  space: "joint" | "encoder";
  encoder: string;
  dim: number;
  embedding: number[];
  /** Present for audio: seconds analysed and whether the input was cut. */
  audio?: AudioFacts;
  timings: Timings;
}

/** Result of {@linkcode Pipeline.classify}. */
export interface ClassifyResult {
  modality: Modality;
  /** The instrument, or null when the presence stage finds none (`reason` says why). */
  label: string | null;
  /** `label`'s score, null with `label`. */
  score: number | null;
  /** Why `label` is null. */
  reason?: PresenceDecision["reason"];
  scores: { label: string; score: number }[];
  /** The presence score and threshold the answer was decided on (when `models/presence.json` is deployed). */
  instrument?: Pick<PresenceDecision, "score" | "threshold" | "rule">;
  model: string;
  audio?: AudioFacts;
  /** The joint embedding the forest classified, when asked for (collections store it with the label). */
  embedding?: number[];
  timings: Timings;
}

/** Where an encoder's card and converted graph are. */
export interface EncoderFile {
  card: EncoderCard;
  onnxPath: string;
}

/** Paths of the encoders a pipeline loads. */
export type EncoderFiles = Record<Modality, EncoderFile>;

/** An encoder ready to run. */
export interface Encoder {
  card: EncoderCard;
  session: Session;
}

/** Training's hooks into the chain (augmentation); the service passes none. */
export interface Augment {
  /** Rewrites the file before it is decoded (training sets it for image items only). */
  bytes?: (bytes: Uint8Array) => Promise<Uint8Array>;
  /** Rewrites decoded 16 kHz samples before the features. */
  samples?: (samples: Float32Array) => Float32Array;
}

/** Options of {@linkcode encodeFile}. */
export interface EncodeFileOptions {
  /** Audio length and image pixel limits. */
  limits?: Pick<DecodeMediaOptions, "maxAudioSeconds" | "maxPixels">;
  /** Encoder outputs to return. @default ["embedding"] */
  outputs?: readonly EncoderOutput[];
  /** Stage timings are added here. */
  timings?: Timings;
  augment?: Augment;
}

/**
 * Runs media -> features -> encoder on one file.
 *
 * @param bytes The file.
 * @param encoders The encoder of each modality this caller serves.
 * @param options Limits, outputs, timings and augmentation.
 * @returns The decoded media, the encoder used and its outputs.
 * @throws {ProblemError} 415 for an unsupported format or a modality without an encoder; the decoders' 4xx.
 *
 * @example
 * ```ts
 * const { outputs } = await encodeFile(bytes, { image: { card, session } });
 * outputs.embedding; // 1280 values for mobilenet_v2
 * ```
 */
export async function encodeFile(
  bytes: Uint8Array,
  encoders: Partial<Record<Modality, Encoder>>,
  options: EncodeFileOptions = {},
): Promise<{ media: Media; encoder: Encoder; outputs: EncoderOutputs }> {
  const timings = options.timings ?? {};
  const augment = options.augment ?? {};
  const imageCard = encoders.image?.card.preprocess as ImagePreprocess | undefined;
  const input = augment.bytes ? await augment.bytes(bytes) : bytes;
  const media = await timed(timings, "decode", () =>
    decodeMedia(input, {
      ...options.limits,
      ...(imageCard ? { image: { size: imageCard.size, centralFraction: imageCard.centralFraction } } : {}),
    }));
  const encoder = encoders[media.modality];
  if (!encoder) throw new ProblemError(415, `This service does not take ${media.modality} input`);
  const features = await timed(timings, "features", () => {
    if (media.modality === "image") return imageInput(encoder.card, media.image.pixels);
    const samples = augment.samples ? augment.samples(media.audio.samples) : media.audio.samples;
    return audioInput(encoder.card, samples);
  });
  const outputs = await timed(
    timings,
    "encoder",
    () => encode(encoder.session, encoder.card, features, options.outputs),
  );
  return { media, encoder, outputs };
}

/** Turns uploaded bytes into embeddings and predictions. */
export class Pipeline {
  #config: Config;
  #encoders: Record<Modality, Encoder>;
  #joint: JointSpace | undefined;
  #presence: Presence | undefined;

  private constructor(
    config: Config,
    encoders: Record<Modality, Encoder>,
    joint?: JointSpace,
    presence?: Presence,
  ) {
    this.#config = config;
    this.#encoders = encoders;
    this.#joint = joint;
    this.#presence = presence;
  }

  /**
   * Loads the encoder sessions and, when present, the joint space.
   *
   * @param config Service configuration (limits, thread count, models dir).
   * @param files The converted encoder graphs to load.
   * @param options `joint: false` skips the trained artifacts (encoder-only service).
   */
  static async create(config: Config, files: EncoderFiles, options: { joint?: boolean } = {}): Promise<Pipeline> {
    const runtime = { threads: config.threadsPerWorker, backend: config.backend, spin: config.spin };
    const [audio, image] = await Promise.all([
      createSession(files.audio.onnxPath, runtime),
      createSession(files.image.onnxPath, runtime),
    ]);
    const joint = options.joint === false ? undefined : await loadJointSpace(config.modelsDir, runtime);
    // The presence stage needs both encoders' class scores.
    const scored = files.audio.card.outputs.scores && files.image.card.outputs.scores;
    const presence = joint && scored ? await loadPresence(config.modelsDir) : undefined;
    return new Pipeline(
      config,
      { audio: { card: files.audio.card, session: audio }, image: { card: files.image.card, session: image } },
      joint,
      presence,
    );
  }

  /** Whether trained artifacts are loaded (`/v1/classify` and the joint space work). */
  get hasJointSpace(): boolean {
    return this.#joint !== undefined;
  }

  /**
   * Embeds one file.
   *
   * @param bytes The uploaded file.
   * @param space `"joint"` (128-d, the default when trained artifacts exist) or `"encoder"`.
   */
  async embed(bytes: Uint8Array, space: "joint" | "encoder" = "joint"): Promise<EmbedResult> {
    const joint = space === "joint" ? this.#requireJoint() : undefined;
    const timings: Timings = {};
    const { media, encoder, outputs } = await this.#encode(bytes, timings, ["embedding"]);
    let embedding = outputs.mean.embedding!;
    if (joint) embedding = await timed(timings, "translator", () => joint.translate(media.modality, embedding));
    return {
      modality: media.modality,
      space,
      encoder: encoder.card.name,
      dim: embedding.length,
      embedding: Array.from(embedding),
      ...audioFacts(media),
      timings,
    };
  }

  /**
   * Classifies one file into the instrument labels.
   *
   * @param bytes The uploaded file.
   * @param topK Keep this many entries of `scores` (all when undefined).
   * @param options `embedding: true` adds the joint embedding to the result (one run for both).
   */
  async classify(bytes: Uint8Array, topK?: number, options: { embedding?: boolean } = {}): Promise<ClassifyResult> {
    const joint = this.#requireJoint();
    const timings: Timings = {};
    // The presence stage reads the encoder's own class scores: one more output of the same run.
    const wanted: EncoderOutput[] = this.#presence ? ["embedding", "scores"] : ["embedding"];
    const { media, outputs } = await this.#encode(bytes, timings, wanted);
    const z = await timed(timings, "translator", () => joint.translate(media.modality, outputs.mean.embedding!));
    const probabilities = await timed(timings, "forest", () => joint.classifier.predictProba(z));
    const scores = joint.labels
      // Forest probabilities are float32 averages of leaf frequencies: 6 decimals say all they hold.
      .map((label, i) => ({ label, score: Math.round((probabilities[i] ?? 0) * 1e6) / 1e6 }))
      .sort((a, b) => b.score - a.score);
    const best = scores[0]!;
    const evidence = presenceEvidence(media, outputs);
    const decision = evidence && this.#presence?.decide(evidence, best.score);
    const present = decision?.present ?? true;
    return {
      modality: media.modality,
      label: present ? best.label : null,
      score: present ? best.score : null,
      ...(decision?.reason ? { reason: decision.reason } : {}),
      scores: topK === undefined ? scores : scores.slice(0, topK),
      ...(decision ? { instrument: presenceReport(decision) } : {}),
      model: joint.version,
      ...audioFacts(media),
      ...(options.embedding ? { embedding: Array.from(z) } : {}),
      timings,
    };
  }

  #encode(bytes: Uint8Array, timings: Timings, outputs: EncoderOutput[]) {
    const limits = { maxAudioSeconds: this.#config.maxAudioSeconds, maxPixels: this.#config.maxImagePixels };
    return encodeFile(bytes, this.#encoders, { limits, timings, outputs });
  }

  #requireJoint(): JointSpace {
    if (!this.#joint) {
      throw new ProblemError(404, "No trained joint space is deployed; run `deno task train` or use ?space=encoder");
    }
    return this.#joint;
  }
}

/** What the presence stage reads: the decoded input and the encoder's class scores (when the graph has them). */
function presenceEvidence(media: Media, outputs: EncoderOutputs): PresenceEvidence | undefined {
  const mean = outputs.mean.scores, max = outputs.max.scores;
  if (!mean || !max) return undefined;
  return media.modality === "audio"
    ? { modality: "audio", samples: media.audio.samples, scores: { mean, max } }
    : { modality: "image", ...media.image, scores: mean };
}

function presenceReport({ score, threshold, rule }: PresenceDecision): ClassifyResult["instrument"] {
  return { score: round3(score), threshold, ...(rule ? { rule } : {}) };
}

function audioFacts(media: Media): { audio?: AudioFacts } {
  if (media.modality !== "audio") return {};
  const { audio } = media;
  return {
    audio: {
      durationSeconds: round3(audio.durationSeconds),
      analysedSeconds: round3(audio.samples.length / audio.sampleRate),
      truncated: audio.truncated,
    },
  };
}

async function timed<T>(timings: Timings, stage: string, fn: () => T | Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await fn();
  } finally {
    timings[stage] = (timings[stage] ?? 0) + performance.now() - start;
  }
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
