/**
 * The presence stage: is there an instrument at all? Decides from what the
 * encoders already computed (YAMNet's AudioSet scores, MobileNetV2's ImageNet
 * scores), the signal itself (level, length, flatness) and the forest's own
 * top score, with the calibrated logistic model in `models/presence.json`
 * (written by `scripts/presence/train.py`).
 *
 * Order of the decision, per modality:
 * 1. hard rules, which need no model: audio shorter than `rules.audio.minSeconds`
 *    or whose loudest 0.1 s block is below `rules.audio.minLevelDbfs` is
 *    "silence"; audio with at least `rules.audio.maxMainsRatio` of its energy on
 *    a 50/60 Hz mains comb is hum, and audio with at least `rules.audio.maxClickRatio`
 *    of it in isolated clicks is clicks, both "no instrument recognised"
 *    (the measures are in `presence_signal.ts`); an image whose
 *    short side is below `rules.image.minSide` pixels
 *    or whose decoded pixels are flat (standard deviation below
 *    `rules.image.minPixelStd`, 0..255) is "no instrument recognised";
 * 2. otherwise the logistic model's probability that an instrument is present;
 *    below the card's `threshold` it is "no instrument recognised". Some of its
 *    features are probes: small linear models of the joint vector (the image
 *    model's `drawing_probe` tells instrument drawings from other icons).
 *
 * @module
 */
import { join } from "node:path";
import { type AudioSignal, audioSignal, pixelStd, SAMPLE_RATE } from "./presence_signal.ts";

/** Why the service names no instrument. */
export type AbstainReason = "silence" | "no instrument recognised";

/** One modality's logistic model, as `scripts/presence/train.py` writes it. */
export interface PresenceLogistic {
  /** Feature names, in the order of `mean`, `scale` and `coef`. */
  features: string[];
  /** Standardisation: `(x - mean) / scale` before the linear model. */
  mean: number[];
  /** See `mean`. */
  scale: number[];
  /** Weights of the standardised features. */
  coef: number[];
  /** Bias. */
  intercept: number;
  /** Probability at or above which an instrument is present. */
  threshold: number;
  /** Features that are themselves linear models of the joint vector, by feature name. */
  probes?: Record<string, LinearProbe>;
}

/**
 * A probe: a logistic model of the 128-d joint vector whose logit is one presence feature
 * (`scripts/presence/train.py` stacks it: fitted on a subset of the items, e.g. the icon sets).
 */
export interface LinearProbe {
  /** What it reads: the joint vector. */
  input: "joint";
  /** The items it was fitted on, in words. */
  trainedOn?: string;
  /** Standardisation of each joint dimension: `(z - mean) / scale`. */
  mean: number[];
  /** See `mean`. */
  scale: number[];
  /** Weights of the standardised dimensions. */
  coef: number[];
  /** Bias. */
  intercept: number;
}

/**
 * Card format this code reads. 2 (round 2 of issue 18) adds the audio feature `mains_hum`; 3
 * (round 5) the mains-hum rule, the probes and the features `music_margin_*` and
 * `instrument_best`; 4 (round 6) the click rule (`rules.audio.maxClickRatio`). The bump, and
 * the constructor's check of every feature name, make a card/code mismatch fail at start-up
 * rather than on the first request.
 */
export const PRESENCE_FORMAT = "amodal-presence/4";

/** Feature names {@linkcode presenceFeatures} computes for a modality beside the per-group ones and the probes. */
const FIXED_FEATURES = {
  audio: ["level_dbfs", "mains_hum", "top_score", "music_margin_mean", "music_margin_max"],
  image: ["entropy", "max_prob", "log_pixel_std", "top_score", "instrument_best"],
} as const;

/** Audio class groups whose union is "music" in `music_margin_*` (train.py's MUSIC_GROUPS). */
const MUSIC_GROUPS = ["instrument", "music", "singing"] as const;

/** The card `models/presence.json` (format {@linkcode PRESENCE_FORMAT}). */
export interface PresenceCard {
  format: typeof PRESENCE_FORMAT;
  /** Version of the presence model. */
  version: string;
  /** Joint-space version whose forest produced the `top_score` feature in training. */
  jointVersion: string;
  /** Score columns summed or maximised per named group (indices into the encoder's `scores`). */
  classes: { audio: Record<string, number[]>; image: Record<string, number[]> };
  /** Hard rules applied before the model. */
  rules: {
    audio: { minSeconds: number; minLevelDbfs: number; maxMainsRatio: number; maxClickRatio: number };
    image: { minSide: number; minPixelStd: number };
  };
  /** Logistic model per modality. */
  audio: PresenceLogistic;
  /** See `audio`. */
  image: PresenceLogistic;
  /** Held-out measurements, training data and provenance (not read by the service). */
  metrics?: unknown;
}

/** What the pipeline knows about an audio input when the presence stage runs. */
export interface AudioEvidence {
  modality: "audio";
  /** The input's 128-d joint vector (read by the card's probes). */
  joint?: Float32Array;
  /** The analysed 16 kHz samples. */
  samples: Float32Array;
  /** Encoder class scores pooled over windows (YAMNet: 521 AudioSet sigmoid scores). */
  scores: { mean: Float32Array; max: Float32Array };
}

/** What the pipeline knows about an image input when the presence stage runs. */
export interface ImageEvidence {
  modality: "image";
  /** The input's 128-d joint vector (read by the card's probes). */
  joint?: Float32Array;
  /** Input width and height (after EXIF orientation). */
  width: number;
  /** See `width`. */
  height: number;
  /** The decoded encoder input, RGB bytes. */
  pixels: Uint8Array;
  /** Encoder class scores (MobileNetV2: 1001 ImageNet softmax probabilities). */
  scores: Float32Array;
}

/** Evidence of either modality. */
export type PresenceEvidence = AudioEvidence | ImageEvidence;

/** The decision, as `/v1/classify` reports it under `instrument`. */
export interface PresenceDecision {
  /** Whether an instrument is present. */
  present: boolean;
  /** Presence probability the decision was made on (0 when a hard rule decided). */
  score: number;
  /** The modality's threshold. */
  threshold: number;
  /** Set when `present` is false. */
  reason?: AbstainReason;
  /** Set when a hard rule decided, saying which. */
  rule?: string;
}

/** log(p / (1 - p)) with p kept inside [1e-4, 1 - 1e-4], so saturated scores stay finite. */
function logit(p: number): number {
  const q = Math.min(1 - 1e-4, Math.max(1e-4, p));
  return Math.log(q / (1 - q));
}

function maxOf(values: Float32Array, columns: readonly number[]): number {
  let best = 0;
  for (const c of columns) best = Math.max(best, values[c] ?? 0);
  return best;
}

function sumOf(values: Float32Array, columns: readonly number[]): number {
  let total = 0;
  for (const c of columns) total += values[c] ?? 0;
  return total;
}

/**
 * Every presence feature of an input, by name. `scripts/presence/train.py`'s
 * `features()` mirrors this function on the stored evidence, and a parity
 * fixture (`tests/fixtures/presence/parity.json`) checks that the two agree.
 *
 * Audio: per class group of `classes.audio`, `<group>_mean` = logit of the
 * largest window-mean class score and `<group>_max` = logit of the largest
 * single-window class score; `level_dbfs`; `mains_hum` (logit of `mainsHumRatio()`, presence_signal.ts);
 * `music_margin_mean` / `music_margin_max` = logit of the best class of the instrument, music
 * and singing groups minus logit of the best other class (window mean / single window);
 * `top_score` (logit). Image: per group of `classes.image`, `<group>_sum` = logit of the
 * summed softmax; `instrument_best` = logit of the best single class of the `instrument`
 * group; `entropy` (nats), `max_prob` (logit), `log_pixel_std`, `top_score`. Each probe:
 * the logit of its probability for the evidence's joint vector.
 *
 * @param classes The card's class groups.
 * @param evidence What the pipeline computed for the input.
 * @param topScore The forest's highest label probability.
 * @param probes The modality's probes (the card's `probes`); they need `evidence.joint`.
 * @param signal The audio's {@linkcode audioSignal} when already measured (else measured here).
 * @returns Feature values by name.
 * @throws {RangeError} When there are probes but no joint vector of their size.
 *
 * @example
 * ```ts
 * const features = presenceFeatures(card.classes, evidence, 0.66); // { instrument_max: 3.2, level_dbfs: -18.5, ... }
 * ```
 */
export function presenceFeatures(
  classes: PresenceCard["classes"],
  evidence: PresenceEvidence,
  topScore: number,
  probes: Record<string, LinearProbe> = {},
  signal?: AudioSignal,
): Record<string, number> {
  const out: Record<string, number> = { top_score: logit(topScore) };
  for (const [name, probe] of Object.entries(probes)) out[name] = logit(probeProbability(probe, evidence.joint));
  if (evidence.modality === "audio") {
    const { mean, max } = evidence.scores;
    for (const [group, columns] of Object.entries(classes.audio)) {
      out[`${group}_mean`] = logit(maxOf(mean, columns));
      out[`${group}_max`] = logit(maxOf(max, columns));
    }
    const music = new Set(MUSIC_GROUPS.flatMap((g) => classes.audio[g] ?? []));
    const other = Array.from(mean.keys()).filter((c) => !music.has(c));
    out.music_margin_mean = logit(maxOf(mean, [...music])) - logit(maxOf(mean, other));
    out.music_margin_max = logit(maxOf(max, [...music])) - logit(maxOf(max, other));
    const { levelDbfs, mainsRatio } = signal ?? audioSignal(evidence.samples);
    out.level_dbfs = levelDbfs;
    out.mains_hum = logit(mainsRatio);
    return out;
  }
  for (const [group, columns] of Object.entries(classes.image)) {
    out[`${group}_sum`] = logit(sumOf(evidence.scores, columns));
  }
  out.instrument_best = logit(maxOf(evidence.scores, classes.image.instrument ?? []));
  let entropy = 0, best = 0;
  for (const p of evidence.scores) {
    if (p > 0) entropy -= p * Math.log(p);
    best = Math.max(best, p);
  }
  out.entropy = entropy;
  out.max_prob = logit(best);
  out.log_pixel_std = Math.log1p(pixelStd(evidence.pixels));
  return out;
}

/** A probe's probability for a joint vector. */
function probeProbability(probe: LinearProbe, joint: Float32Array | undefined): number {
  if (!joint || joint.length !== probe.coef.length) {
    throw new RangeError(`Presence probe needs a ${probe.coef.length}-d joint vector, got ${joint?.length ?? "none"}`);
  }
  let z = probe.intercept;
  for (let i = 0; i < joint.length; i++) z += probe.coef[i]! * (joint[i]! - probe.mean[i]!) / probe.scale[i]!;
  return 1 / (1 + Math.exp(-z));
}

/**
 * Probability that an instrument is present under one modality's logistic model.
 *
 * @param model The modality's model from the card.
 * @param features Feature values by name (must hold every name in `model.features`).
 * @returns A probability in (0, 1).
 * @throws {RangeError} When a feature the model needs is missing or not finite.
 */
export function presenceProbability(model: PresenceLogistic, features: Record<string, number>): number {
  let z = model.intercept;
  model.features.forEach((name, i) => {
    const x = features[name];
    if (x === undefined || !Number.isFinite(x)) {
      throw new RangeError(`Presence feature "${name}" is ${x}; the presence card and the code disagree`);
    }
    z += model.coef[i]! * (x - model.mean[i]!) / model.scale[i]!;
  });
  return 1 / (1 + Math.exp(-z));
}

/** A hard rule's verdict: why there is no instrument, and which rule said so. */
type Rule = { reason: AbstainReason; rule: string };

/** The loaded presence stage. */
export class Presence {
  /** The card it decides with. */
  readonly card: PresenceCard;

  /**
   * @param card A parsed `models/presence.json`.
   * @throws {TypeError} When the card's format or fields are not what this code reads, or a model
   * names a feature this code does not compute.
   */
  constructor(card: PresenceCard) {
    if (card.format !== PRESENCE_FORMAT) {
      throw new TypeError(`Presence card format is "${card.format}", expected "${PRESENCE_FORMAT}"`);
    }
    for (const modality of ["audio", "image"] as const) {
      const m = card[modality];
      const n = m?.features?.length ?? 0;
      if (n === 0 || m.mean.length !== n || m.scale.length !== n || m.coef.length !== n) {
        throw new TypeError(`Presence card: ${modality} model needs equally long features, mean, scale and coef`);
      }
      const groups = Object.keys(card.classes?.[modality] ?? {});
      const probes = Object.entries(m.probes ?? {});
      for (const [name, p] of probes) {
        const d = p.coef?.length ?? 0;
        if (p.input !== "joint" || d === 0 || p.mean?.length !== d || p.scale?.length !== d) {
          throw new TypeError(
            `Presence card: ${modality} probe ${name} needs input "joint" and equally long mean, scale and coef`,
          );
        }
      }
      // The margin and the best instrument class are computed from named groups: known only when the card has them.
      const needs: Record<string, readonly string[]> = {
        music_margin_mean: MUSIC_GROUPS,
        music_margin_max: MUSIC_GROUPS,
        instrument_best: ["instrument"],
      };
      const known = new Set<string>([
        ...FIXED_FEATURES[modality].filter((f) => (needs[f] ?? []).every((g) => groups.includes(g))),
        ...groups.flatMap((g) => modality === "audio" ? [`${g}_mean`, `${g}_max`] : [`${g}_sum`]),
        ...probes.map(([name]) => name),
      ]);
      const unknown = m.features.filter((f) => !known.has(f));
      if (unknown.length > 0) {
        throw new TypeError(`Presence card: ${modality} model needs features this code does not compute: ${unknown}`);
      }
    }
    this.card = card;
  }

  /**
   * Decides whether an input holds an instrument.
   *
   * @param evidence What the pipeline computed for the input.
   * @param topScore The forest's highest label probability.
   * @returns The decision with the score and threshold it used.
   *
   * @example
   * ```ts
   * const decision = presence.decide({ modality: "audio", samples, scores }, 0.66);
   * if (!decision.present) console.log(decision.reason); // "silence"
   * ```
   */
  decide(evidence: PresenceEvidence, topScore: number): PresenceDecision {
    const model = this.card[evidence.modality];
    const threshold = model.threshold;
    let signal: AudioSignal | undefined, rule: Rule | undefined;
    if (evidence.modality === "audio") {
      signal = audioSignal(evidence.samples); // measured once: the rules and the features both read it
      rule = this.#audioRule(evidence.samples.length / SAMPLE_RATE, signal);
    } else {
      rule = this.#imageRule(evidence);
    }
    if (rule) return { present: false, score: 0, threshold, ...rule };
    const features = presenceFeatures(this.card.classes, evidence, topScore, model.probes, signal);
    const score = presenceProbability(model, features);
    return score >= threshold
      ? { present: true, score, threshold }
      : { present: false, score, threshold, reason: "no instrument recognised" };
  }

  #audioRule(seconds: number, signal: AudioSignal): Rule | undefined {
    const { minSeconds, minLevelDbfs, maxMainsRatio, maxClickRatio } = this.card.rules.audio;
    if (seconds < minSeconds) return { reason: "silence", rule: `shorter than ${minSeconds} s` };
    if (signal.levelDbfs < minLevelDbfs) return { reason: "silence", rule: `level below ${minLevelDbfs} dBFS` };
    if (signal.mainsRatio >= maxMainsRatio) return { reason: "no instrument recognised", rule: "mains hum" };
    if (signal.clickRatio >= maxClickRatio) return { reason: "no instrument recognised", rule: "clicks" };
    return undefined;
  }

  #imageRule(evidence: ImageEvidence): Rule | undefined {
    const { minSide, minPixelStd } = this.card.rules.image;
    if (Math.min(evidence.width, evidence.height) < minSide) {
      return { reason: "no instrument recognised", rule: `smaller than ${minSide} px` };
    }
    if (pixelStd(evidence.pixels) < minPixelStd) {
      return { reason: "no instrument recognised", rule: "plain image" };
    }
    return undefined;
  }
}

/** File name of the presence card in the models folder. */
export const PRESENCE_FILE = "presence.json";

/** Options of {@linkcode loadPresence}. */
export interface LoadPresenceOptions {
  /**
   * Version of the deployed joint space (`models/manifest.json`). When the card was trained on
   * another one, its `top_score` feature came from another forest and its thresholds may be off:
   * a warning says so (the stage still runs, so the service keeps answering "no instrument"
   * for silence and noise rather than naming a label for everything).
   */
  jointVersion?: string;
  /** Where the warning goes. @default console.warn */
  warn?: (message: string) => void;
}

/**
 * Loads `presence.json` from the models folder.
 *
 * @param modelsDir The models folder.
 * @param options The deployed joint-space version to check the card against.
 * @returns The stage, or `undefined` when the folder has no presence card (the service then always names a label).
 * @throws {TypeError} When the card exists but is malformed.
 *
 * @example
 * ```ts
 * const presence = await loadPresence("models", { jointVersion: joint.version });
 * ```
 */
export async function loadPresence(
  modelsDir: string,
  options: LoadPresenceOptions = {},
): Promise<Presence | undefined> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(modelsDir, PRESENCE_FILE));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return undefined;
    throw error;
  }
  const presence = new Presence(JSON.parse(text) as PresenceCard);
  const { jointVersion, warn = console.warn } = options;
  if (jointVersion !== undefined && presence.card.jointVersion !== jointVersion) {
    warn(
      `presence: ${PRESENCE_FILE} (${presence.card.version}) was trained with joint space ` +
        `${presence.card.jointVersion}, but ${jointVersion} is deployed; its thresholds may be off. ` +
        `Rebuild it: ${PRESENCE_REBUILD}`,
    );
  }
  return presence;
}

/** The commands that rebuild `presence.json` for the deployed joint space. */
export const PRESENCE_REBUILD =
  "npx --yes deno@2.9.6 run --lock=deno.lock -A scripts/presence/extract.ts && /usr/bin/python3 scripts/presence/train.py";
