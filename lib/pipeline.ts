/**
 * bytes -> media -> features -> encoder -> joint space -> classifier.
 *
 * One pipeline per worker: it owns the ONNX sessions and trained artifacts
 * and turns an uploaded file into an embedding or a classification. Each
 * stage is timed so the service can report a `Server-Timing` header.
 *
 * @module
 */
import type { Config } from "./config.ts";
import { ProblemError } from "./errors.ts";
import { sniff } from "./media/sniff.ts";
import { decodeAudio } from "./media/decode_audio.ts";
import { decodeImage } from "./media/decode_image.ts";
import { createSession, type Session } from "./backend/onnx.ts";
import { encodeAudio } from "./encoders/audio_encoder.ts";
import { encodeImage } from "./encoders/image_encoder.ts";
import type { EncoderCard } from "./encoders/card.ts";
import { type JointSpace, loadJointSpace } from "./joint/joint_space.ts";
import { loadPresence, type Presence, type PresenceDecision, type PresenceEvidence } from "./classify/presence.ts";

/** Which modality an input was recognised as. */
export type Modality = "audio" | "image";

/** Milliseconds spent per stage. */
export type Timings = Record<string, number>;

/** Result of {@linkcode Pipeline.embed}. */
export interface EmbedResult {
  modality: Modality;
  space: "joint" | "encoder";
  encoder: string;
  dim: number;
  embedding: number[];
  /** Present for audio: seconds analysed and whether the input was cut. */
  audio?: { durationSeconds: number; analysedSeconds: number; truncated: boolean };
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
  audio?: EmbedResult["audio"];
  timings: Timings;
}

/** Paths of the encoders a pipeline loads. */
export interface EncoderFiles {
  audio: { card: EncoderCard; onnxPath: string };
  image: { card: EncoderCard; onnxPath: string };
}

/** Turns uploaded bytes into embeddings and predictions. */
export class Pipeline {
  #config: Config;
  #encoders: EncoderFiles;
  #sessions: Record<Modality, Session>;
  #joint: JointSpace | undefined;
  #presence: Presence | undefined;

  private constructor(
    config: Config,
    encoders: EncoderFiles,
    sessions: Record<Modality, Session>,
    joint?: JointSpace,
    presence?: Presence,
  ) {
    this.#config = config;
    this.#encoders = encoders;
    this.#sessions = sessions;
    this.#joint = joint;
    this.#presence = presence;
  }

  /**
   * Loads the encoder sessions and, when present, the joint space.
   *
   * @param config Service configuration (limits, thread count, models dir).
   * @param encoders The converted encoder graphs to load.
   * @param options `joint: false` skips the trained artifacts (encoder-only service).
   */
  static async create(config: Config, encoders: EncoderFiles, options: { joint?: boolean } = {}): Promise<Pipeline> {
    const threads = config.threadsPerWorker;
    const runtime = { threads, backend: config.backend, spin: config.spin };
    const [audio, image] = await Promise.all([
      createSession(encoders.audio.onnxPath, runtime),
      createSession(encoders.image.onnxPath, runtime),
    ]);
    const joint = options.joint === false ? undefined : await loadJointSpace(config.modelsDir, runtime);
    const presence = joint ? await loadPresence(config.modelsDir) : undefined;
    return new Pipeline(config, encoders, { audio, image }, joint, presence);
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
    const timings: Timings = {};
    const encoded = await this.#encode(bytes, timings);
    let embedding = encoded.embedding;
    if (space === "joint") {
      const joint = this.#requireJoint();
      embedding = await timed(timings, "translator", () => joint.translate(encoded.modality, embedding));
    }
    return {
      modality: encoded.modality,
      space,
      encoder: this.#encoders[encoded.modality].card.name,
      dim: embedding.length,
      embedding: Array.from(embedding),
      ...(encoded.audio ? { audio: encoded.audio } : {}),
      timings,
    };
  }

  /**
   * Classifies one file into the instrument labels.
   *
   * @param bytes The uploaded file.
   * @param topK Keep this many entries of `scores` (all when undefined).
   */
  async classify(bytes: Uint8Array, topK?: number): Promise<ClassifyResult> {
    const joint = this.#requireJoint();
    const timings: Timings = {};
    const encoded = await this.#encode(bytes, timings);
    const z = await timed(timings, "translator", () => joint.translate(encoded.modality, encoded.embedding));
    const probabilities = await timed(timings, "forest", () => joint.classifier.predictProba(z));
    const scores = joint.labels
      // Forest probabilities are float32 averages of leaf frequencies: 6 decimals say all they hold.
      .map((label, i) => ({ label, score: Math.round((probabilities[i] ?? 0) * 1e6) / 1e6 }))
      .sort((a, b) => b.score - a.score);
    const best = scores[0]!;
    const decision = encoded.evidence && this.#presence?.decide(encoded.evidence, best.score);
    const present = decision?.present ?? true;
    return {
      modality: encoded.modality,
      label: present ? best.label : null,
      score: present ? best.score : null,
      ...(decision?.reason ? { reason: decision.reason } : {}),
      scores: topK === undefined ? scores : scores.slice(0, topK),
      ...(decision ? { instrument: presenceReport(decision) } : {}),
      model: joint.version,
      ...(encoded.audio ? { audio: encoded.audio } : {}),
      timings,
    };
  }

  #requireJoint(): JointSpace {
    if (!this.#joint) {
      throw new ProblemError(404, "No trained joint space is deployed; run `deno task train` or use ?space=encoder");
    }
    return this.#joint;
  }

  async #encode(bytes: Uint8Array, timings: Timings) {
    const kind = sniff(bytes);
    if (!kind) {
      const head = Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join(" ");
      throw new ProblemError(415, `Not a supported audio or image format (first bytes: ${head || "none"})`);
    }
    if (kind.modality === "audio") {
      const card = this.#encoders.audio.card;
      const decoded = await timed(
        timings,
        "decode",
        () => decodeAudio(bytes, { format: kind.format, maxSeconds: this.#config.maxAudioSeconds }),
      );
      const { embedding, scores } = await timed(
        timings,
        "encoder",
        () => encodeAudio(this.#sessions.audio, card, decoded.samples, timings),
      );
      // embedAudio reports its front end as "features"; keep "encoder" to the network alone.
      timings.encoder = timings.encoder! - (timings.features ?? 0);
      return {
        modality: "audio" as const,
        embedding,
        evidence: scores && { modality: "audio" as const, samples: decoded.samples, scores },
        audio: {
          durationSeconds: round3(decoded.durationSeconds),
          analysedSeconds: round3(decoded.samples.length / decoded.sampleRate),
          truncated: decoded.truncated,
        },
      };
    }
    const card = this.#encoders.image.card;
    const decoded = await timed(
      timings,
      "decode",
      () => decodeImage(bytes, { maxPixels: this.#config.maxImagePixels }),
    );
    const { embedding, scores } = await timed(
      timings,
      "encoder",
      () => encodeImage(this.#sessions.image, card, decoded.pixels),
    );
    const evidence: PresenceEvidence | undefined = scores && { modality: "image", ...decoded, scores };
    return { modality: "image" as const, embedding, evidence, audio: undefined };
  }
}

async function timed<T>(timings: Timings, stage: string, fn: () => T | Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await fn();
  } finally {
    timings[stage] = (timings[stage] ?? 0) + performance.now() - start;
  }
}

function presenceReport({ score, threshold, rule }: PresenceDecision): ClassifyResult["instrument"] {
  return { score: round3(score), threshold, ...(rule ? { rule } : {}) };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
