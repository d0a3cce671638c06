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
import { readModelManifest } from "./joint/model_manifest.ts";
import { readArtifact } from "./joint/artifact.ts";
import { ensureFused } from "./weights/ensure_fused.ts";
import { loadPresence, type Presence, type PresenceDecision, type PresenceEvidence } from "./classify/presence.ts";
import { type DecodedVideo, decodeVideo } from "./media/video.ts";
import {
  classifyVideo,
  embedVideo,
  type ModalityEmbedding,
  type VideoModalities,
  type VideoParts,
} from "./video_pipeline.ts";

export type { Modality };

/** Milliseconds spent per stage. */
export type Timings = Record<string, number>;

/** Seconds of audio received and analysed. */
export interface AudioFacts {
  durationSeconds: number;
  analysedSeconds: number;
  truncated: boolean;
}

/** What an input was recognised as: a sound, a picture, or a video (both, `lib/video_pipeline.ts`). */
export type InputModality = Modality | "video";

/** Result of {@linkcode Pipeline.embed}. */
export interface EmbedResult extends Partial<VideoParts> {
  modality: InputModality;
  space: "joint" | "encoder";
  encoder: string;
  dim: number;
  embedding: number[];
  /** Present for audio: seconds analysed and whether the input was cut. */
  audio?: AudioFacts;
  /** Videos: each modality's embedding. */
  modalities?: { audio?: ModalityEmbedding; image?: ModalityEmbedding };
  timings: Timings;
}

/** Result of {@linkcode Pipeline.classify}. */
export interface ClassifyResult extends Partial<VideoParts> {
  modality: InputModality;
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
  /** Videos: each modality's own result. */
  modalities?: VideoModalities;
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
  /** Also return the joint-space vector when the encoder's graph has the translator fused in. */
  joint?: boolean;
  /** Stage timings are added here. */
  timings?: Timings;
  augment?: Augment;
}

/**
 * Runs media -> features -> encoder on one file.
 *
 * @param input The file, or media already decoded (the service decodes images in its main isolate).
 * @param encoders The encoder of each modality this caller serves, or a function that loads it on first use.
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
  input: Uint8Array | Media,
  encoders: Partial<Record<Modality, Encoder>> | ((modality: Modality) => Promise<Encoder | undefined>),
  options: EncodeFileOptions & { imageGeometry?: { size: number; centralFraction: number } } = {},
): Promise<{ media: Media; encoder: Encoder; outputs: EncoderOutputs }> {
  const timings = options.timings ?? {};
  const augment = options.augment ?? {};
  const lookup = typeof encoders === "function" ? encoders : (m: Modality) => Promise.resolve(encoders[m]);
  const imageCard = typeof encoders === "function"
    ? options.imageGeometry
    : encoders.image?.card.preprocess as ImagePreprocess | undefined;
  let media: Media;
  if (input instanceof Uint8Array) {
    const bytes = augment.bytes ? await augment.bytes(input) : input;
    media = await timed(timings, "decode", () =>
      decodeMedia(bytes, {
        ...options.limits,
        ...(imageCard ? { image: { size: imageCard.size, centralFraction: imageCard.centralFraction } } : {}),
      }));
  } else {
    media = input;
  }
  const encoder = await lookup(media.modality);
  if (!encoder) throw new ProblemError(415, `This service does not take ${media.modality} input`);
  const features = await timed(timings, "features", () => {
    if (media.modality === "image") return imageInput(encoder.card, media.image.pixels);
    const samples = augment.samples ? augment.samples(media.audio.samples) : media.audio.samples;
    return audioInput(encoder.card, samples);
  });
  const outputs = await timed(
    timings,
    "encoder",
    () => encode(encoder.session, encoder.card, features, options.outputs, { joint: options.joint === true }),
  );
  return { media, encoder, outputs };
}

/**
 * Turns uploaded bytes (or media decoded elsewhere) into embeddings and predictions. Nothing is loaded
 * until a modality is first used (or {@linkcode Pipeline.warmUp} asks for it): a process that has only
 * seen images has not created the audio encoder's session, nor ffmpeg.
 */
export class Pipeline {
  #config: Config;
  #files: EncoderFiles;
  #runtime: { threads: number; backend: "web" | "node"; spin: boolean };
  #encoders: Partial<Record<Modality, Promise<Encoder>>> = {};
  #loadedEncoders = new Set<string>();
  #joint: Promise<JointSpace> | undefined;
  #presence: Promise<Presence | undefined> | undefined;
  #hasJoint: boolean;
  /** Both encoders expose class scores, which the presence stage reads. */
  #scored: boolean;

  private constructor(config: Config, files: EncoderFiles, hasJoint: boolean) {
    this.#config = config;
    this.#files = files;
    this.#runtime = { threads: config.threadsPerWorker, backend: config.backend, spin: config.spin };
    this.#hasJoint = hasJoint;
    this.#scored = Boolean(files.audio.card.outputs.scores && files.image.card.outputs.scores);
  }

  /**
   * Prepares a pipeline; sessions are created on first use.
   *
   * @param config Service configuration (limits, thread count, models dir).
   * @param files The converted encoder graphs to load.
   * @param options `joint: false` skips the trained artifacts (encoder-only service).
   */
  static create(config: Config, files: EncoderFiles, options: { joint?: boolean } = {}): Promise<Pipeline> {
    return Promise.resolve(new Pipeline(config, files, options.joint !== false));
  }

  /** Whether trained artifacts are deployed (`/v1/classify` and the joint space work). */
  get hasJointSpace(): boolean {
    return this.#hasJoint;
  }

  /** What this pipeline has loaded so far: `encoder:<name>` and `translator:<modality>`. */
  loaded(): string[] {
    return [...this.#loadedEncoders];
  }

  /**
   * Loads the input's modality's encoder (and, with a joint space, its translator and the forest) by running
   * the input through the whole path, so the first request does not pay onnxruntime's first calls.
   *
   * @param input A small valid input of the modality to load.
   */
  async warmUp(input: Uint8Array | Media): Promise<void> {
    await (this.#hasJoint ? this.classify(input) : this.embed(input, "encoder"));
  }

  /**
   * Embeds one file.
   *
   * @param input The uploaded file, or media decoded by the main isolate.
   * @param space `"joint"` (128-d, the default when trained artifacts exist) or `"encoder"`.
   */
  async embed(input: Uint8Array | Media, space: "joint" | "encoder" = "joint"): Promise<EmbedResult> {
    const video = await this.#video(input);
    if (video) return embedVideo(video.media, (media) => this.embed(media, space), { space, decodeMs: video.ms });
    // `space=encoder` never loads or runs the translator or the forest.
    const loading = space === "joint" ? this.#requireJoint() : undefined;
    loading?.catch(() => {});
    const timings: Timings = {};
    // The joint space (forest, translator) loads while the encoder runs, on a cold start.
    const { media, encoder, outputs } = await this.#encode(input, timings, ["embedding"], space === "joint");
    const joint = await loading;
    let embedding = outputs.mean.embedding!;
    if (outputs.joint) embedding = outputs.joint;
    else if (joint) embedding = await timed(timings, "translator", () => joint.translate(media.modality, embedding));
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
   * @param input The uploaded file, or media decoded by the main isolate.
   * @param topK Keep this many entries of `scores` (all when undefined).
   * @param options `embedding: true` adds the joint embedding to the result (one run for both).
   */
  async classify(
    input: Uint8Array | Media,
    topK?: number,
    options: { embedding?: boolean } = {},
  ): Promise<ClassifyResult> {
    const video = await this.#video(input);
    if (video) {
      return classifyVideo(video.media, (media) => this.classify(media, undefined, options), {
        ...(topK === undefined ? {} : { topK }),
        decodeMs: video.ms,
        ...options,
      });
    }
    const loading = this.#requireJoint();
    loading.catch(() => {});
    const timings: Timings = {};
    const presenceLoading = this.#requirePresence();
    presenceLoading.catch(() => {});
    // The presence stage reads the encoder's own class scores: one more output of the same run.
    const wanted: EncoderOutput[] = this.#scored ? ["embedding", "scores"] : ["embedding"];
    const { media, outputs } = await this.#encode(input, timings, wanted, true);
    const joint = await loading;
    // A fused graph ran the translator inside the encoder stage.
    const z = outputs.joint ??
      await timed(timings, "translator", () => joint.translate(media.modality, outputs.mean.embedding!));
    const probabilities = await timed(timings, "classifier", () => joint.classifier.predictProba(z));
    const scores = joint.labels
      // Forest probabilities are float32 averages of leaf frequencies: 6 decimals say all they hold.
      .map((label, i) => ({ label, score: Math.round((probabilities[i] ?? 0) * 1e6) / 1e6 }))
      .sort((a, b) => b.score - a.score);
    const best = scores[0]!;
    const evidence = presenceEvidence(media, outputs, z);
    const presence = await presenceLoading;
    const decision = evidence && presence &&
      await timed(timings, "presence", () => presence.decide(evidence, best.score));
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

  /** The upload decoded as a video when it is one (a container with a video track); undefined otherwise. */
  async #video(input: Uint8Array | Media): Promise<{ media: DecodedVideo; ms: number } | undefined> {
    if (!(input instanceof Uint8Array)) return undefined;
    const start = performance.now();
    const image = this.#files.image.card.preprocess as ImagePreprocess;
    const media = await decodeVideo(input, {
      maxSeconds: this.#config.maxAudioSeconds,
      maxVideoSeconds: this.#config.maxVideoSeconds,
      maxPixels: this.#config.maxImagePixels,
      image: { size: image.size, centralFraction: image.centralFraction },
    });
    return media && { media, ms: performance.now() - start };
  }

  #encode(input: Uint8Array | Media, timings: Timings, outputs: EncoderOutput[], joint: boolean) {
    const limits = { maxAudioSeconds: this.#config.maxAudioSeconds, maxPixels: this.#config.maxImagePixels };
    const image = this.#files.image.card.preprocess as ImagePreprocess;
    return encodeFile(input, (modality) => this.#encoder(modality), {
      limits,
      timings,
      outputs,
      joint,
      imageGeometry: { size: image.size, centralFraction: image.centralFraction },
    });
  }

  #encoder(modality: Modality): Promise<Encoder> {
    const file = this.#files[modality];
    const loading = this.#encoders[modality] ??= this.#loadEncoder(modality, file);
    // A failed load is retried by the next request instead of being remembered.
    loading.catch(() => {
      if (this.#encoders[modality] === loading) delete this.#encoders[modality];
    });
    return loading;
  }

  /**
   * The encoder's session: with a joint space and `config.fuse`, the graph with the modality's translator fused in
   * (one session, one run per chunk; `lib/weights/ensure_fused.ts`), else the encoder alone.
   */
  async #loadEncoder(modality: Modality, file: EncoderFile): Promise<Encoder> {
    if (this.#config.fuse && this.#hasJoint) {
      const { modelsDir, cacheDir } = this.#config;
      const entry = (await readModelManifest(modelsDir)).artifacts[`translator_${modality}`];
      const translator = await readArtifact(modelsDir, entry);
      let fused: Awaited<ReturnType<typeof ensureFused>> | undefined;
      try {
        fused = await ensureFused({
          cacheDir,
          encoderPath: file.onnxPath,
          translator,
          translatorSha256: entry.sha256,
          io: entry,
        });
      } catch (error) {
        // A head of another shape than the fuser knows still serves, as a second session.
        if (!(error instanceof RangeError)) throw error;
        console.error(JSON.stringify({ level: "warn", msg: "encoder and translator run apart", error: error.message }));
      }
      if (fused) {
        const session = await createSession(fused.model, this.#runtime);
        this.#loadedEncoders.add(`encoder:${file.card.name}`).add(`translator:${modality}`);
        return { card: file.card, session };
      }
    }
    const session = await createSession(file.onnxPath, this.#runtime);
    this.#loadedEncoders.add(`encoder:${file.card.name}`);
    return { card: file.card, session };
  }

  /** The presence stage (`models/presence.json`), loaded on the first classification; undefined when not deployed. */
  #requirePresence(): Promise<Presence | undefined> {
    if (!this.#scored) return Promise.resolve(undefined);
    // After the joint space: the card records the classifier version it was fitted with, and a mismatch is logged.
    const loading = this.#presence ??= this.#requireJoint().then((joint) =>
      loadPresence(this.#config.modelsDir, { jointVersion: joint.version })
    );
    loading.catch(() => {
      if (this.#presence === loading) this.#presence = undefined;
    });
    return loading;
  }

  #requireJoint(): Promise<JointSpace> {
    if (!this.#hasJoint) {
      throw new ProblemError(404, "No trained joint space is deployed; run `deno task train` or use ?space=encoder");
    }
    const loading = this.#joint ??= loadJointSpace(this.#config.modelsDir, {
      ...this.#runtime,
      onLoad: (modality) => this.#loadedEncoders.add(`translator:${modality}`),
    });
    loading.catch(() => {
      if (this.#joint === loading) this.#joint = undefined;
    });
    return loading;
  }
}

/** What the presence stage reads: the decoded input, the encoder's class scores (when the graph has them), the joint vector. */
function presenceEvidence(media: Media, outputs: EncoderOutputs, joint: Float32Array): PresenceEvidence | undefined {
  const mean = outputs.mean.scores, max = outputs.max.scores;
  if (!mean || !max) return undefined;
  return media.modality === "audio"
    ? { modality: "audio", samples: media.audio.samples, scores: { mean, max }, joint }
    : { modality: "image", ...media.image, scores: mean, joint };
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
