/**
 * Embedding-extraction worker: decodes one dataset item, applies the view's augmentation, and
 * embeds it with exactly the service's code path (lib/media decoders -> lib/features ->
 * lib/encoders -> lib/backend/onnx.ts).
 *
 * Messages in: `{type: "init", card, onnxPath, threads}` then `{type: "job", key, path, view,
 * seedKey}`; out: `{type: "ready"}`, `{type: "done", key, embedding}` or `{type: "error", key,
 * message}`.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { createSession, type Session } from "../../lib/backend/onnx.ts";
import type { EncoderCard, ImagePreprocess } from "../../lib/encoders/card.ts";
import { audioScores, embedAudio } from "../../lib/encoders/audio_encoder.ts";
import { embedImage, imageScores } from "../../lib/encoders/image_encoder.ts";
import { logMelStats } from "./log_mel_stats.ts";
import { decodeAudio } from "../../lib/media/decode_audio.ts";
import { decodeImage } from "../../lib/media/decode_image.ts";
import { sniff } from "../../lib/media/sniff.ts";
import { augmentAudio } from "./augment_audio.ts";
import { augmentImage } from "./augment_image.ts";
import { createRandom } from "../shared/random.ts";

let session: Session | undefined;
let card: EncoderCard | undefined;
/** "embedding" (default), "scores" (the encoder's classes) or "log_mel_stats" (no graph). */
let output = "embedding";

async function embed(path: string, view: number, seedKey: string): Promise<Float32Array> {
  const bytes = await Deno.readFile(path);
  const kind = sniff(bytes);
  if (kind?.modality !== card!.modality) throw new Error(`not a recognised ${card!.modality} file`);
  if (kind.modality === "audio") {
    const decoded = await decodeAudio(bytes, { format: kind.format });
    const samples = view === 0 ? decoded.samples : augmentAudio(decoded.samples, createRandom(seedKey).next).samples;
    if (output === "log_mel_stats") return logMelStats(samples);
    if (output === "scores") return await audioScores(session!, card!, samples);
    return await embedAudio(session!, card!, samples);
  }
  const p = card!.preprocess as ImagePreprocess;
  const input = view === 0 ? bytes : await augmentImage(bytes, createRandom(seedKey).next);
  const { pixels } = await decodeImage(input, { size: p.size, centralFraction: p.centralFraction });
  if (output === "scores") return await imageScores(session!, card!, pixels);
  return await embedImage(session!, card!, pixels);
}

self.onmessage = async (event: MessageEvent) => {
  const msg = event.data;
  if (msg.type === "init") {
    card = msg.card;
    output = msg.output ?? "embedding";
    if (output !== "log_mel_stats") session = await createSession(msg.onnxPath, { threads: msg.threads ?? 1 });
    self.postMessage({ type: "ready" });
    return;
  }
  try {
    const embedding = await embed(msg.path, msg.view, msg.seedKey);
    self.postMessage({ type: "done", key: msg.key, embedding }, [embedding.buffer as ArrayBuffer]);
  } catch (error) {
    self.postMessage({ type: "error", key: msg.key, message: `${msg.path}: ${(error as Error).message}` });
  }
};
