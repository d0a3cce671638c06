/**
 * Late fusion of several classifications of one input: the frames of a video into one image result,
 * then the audio and image results into the video's answer. One rule, used at both levels:
 *
 * 1. A result votes when it names an instrument, i.e. when the presence stage did not abstain on it
 *    (`label` is not null).
 * 2. The fused probabilities are the mean of the voters' probability vectors, label by label, each voter
 *    weighing the same: at the video level one audio track and one image result (however many frames it
 *    came from), so five frames never outvote the sound.
 * 3. The fused label is the most probable label of that mean.
 * 4. When no result votes, the answer abstains (`label: null`): its reason is "silence" when every result
 *    abstained for silence, "no instrument recognised" otherwise; its scores are the mean over all
 *    results, for information, as a single input's scores are shown when it abstains.
 *
 * @module
 */
import type { AbstainReason } from "./presence.ts";

/** One label's probability. */
export interface LabelScore {
  label: string;
  score: number;
}

/** What fusion reads of a classification. */
export interface Vote {
  /** The instrument, or null when the presence stage abstained. */
  label: string | null;
  /** Why `label` is null. */
  reason?: AbstainReason;
  /** Every label's probability (any order). */
  scores: readonly LabelScore[];
}

/** A fused classification. */
export interface Fused {
  label: string | null;
  /** `label`'s fused probability; null with `label`. */
  score: number | null;
  reason?: AbstainReason;
  /** Every label's fused probability, by decreasing score. */
  scores: LabelScore[];
  /** How many of the results voted. */
  voters: number;
}

/**
 * Fuses classifications by the rule of the module doc.
 *
 * @param votes The results to fuse (at least one).
 * @returns The fused label, score, reason and scores.
 * @throws {RangeError} When `votes` is empty.
 *
 * @example
 * ```ts
 * fuse([
 *   { label: "violin", scores: [{ label: "violin", score: 0.6 }, { label: "cello", score: 0.4 }] },
 *   { label: null, reason: "silence", scores: [{ label: "violin", score: 0.1 }, { label: "cello", score: 0.9 }] },
 * ]); // { label: "violin", score: 0.6, scores: [...], voters: 1 }
 * ```
 */
export function fuse(votes: readonly Vote[]): Fused {
  if (votes.length === 0) throw new RangeError("Cannot fuse: no results given");
  const voters = votes.filter((v) => v.label !== null);
  const scores = meanScores(voters.length ? voters : votes);
  if (voters.length === 0) {
    const reason: AbstainReason = votes.every((v) => v.reason === "silence") ? "silence" : "no instrument recognised";
    return { label: null, score: null, reason, scores, voters: 0 };
  }
  const best = scores[0]!;
  return { label: best.label, score: best.score, scores, voters: voters.length };
}

/** Mean probability per label over `votes`, rounded to 6 decimals (as the pipeline rounds), by decreasing score. */
function meanScores(votes: readonly Vote[]): LabelScore[] {
  const sums = new Map<string, number>();
  for (const vote of votes) {
    for (const { label, score } of vote.scores) sums.set(label, (sums.get(label) ?? 0) + score);
  }
  return [...sums]
    .map(([label, sum]) => ({ label, score: Math.round(sum / votes.length * 1e6) / 1e6 }))
    .sort((a, b) => b.score - a.score || (a.label < b.label ? -1 : 1));
}
