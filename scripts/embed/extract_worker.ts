/**
 * Embedding-extraction worker: decodes one dataset item, applies the view's augmentation, and
 * embeds it with the service's own stage chain (`encodeFile` in lib/pipeline.ts), augmentation injected.
 *
 * Messages: `ExtractMessage` in, `ExtractReply` out (lib/worker/protocol.ts).
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { createSession, type Session } from "../../lib/backend/onnx.ts";
import type { EncoderCard } from "../../lib/encoders/card.ts";
import { type Augment, encodeFile } from "../../lib/pipeline.ts";
import { audioPreprocess } from "../../lib/features/encoder_input.ts";
import { decodeMedia, type Media } from "../../lib/media/decode_media.ts";
import { logMelStats } from "./log_mel_stats.ts";
import { augmentAudio } from "./augment_audio.ts";
import { augmentImage } from "./augment_image.ts";
import { augmentSource, SOURCE_VIEW_BASE } from "./augment_source.ts";
import { createRandom } from "../shared/random.ts";
import type { ExtractMessage, ExtractOutput, ExtractReply } from "../../lib/worker/protocol.ts";

let session: Session | undefined;
let card: EncoderCard | undefined;
/** "embedding" (default), "scores" (the encoder's classes) or "log_mel_stats" (no graph). */
let output: ExtractOutput = "embedding";
/** Also return the window-mean class scores with each embedding (one encoder run for both). */
let withScores = false;

/** View 0 is the file as it is; other views are augmented, reproducibly from the seed key. */
function augmentation(view: number, seedKey: string): Augment {
  if (view === 0 || view > SOURCE_VIEW_BASE) return {};
  return card!.modality === "audio"
    ? { samples: (samples) => augmentAudio(samples, createRandom(seedKey).next).samples }
    : { bytes: (bytes) => augmentImage(bytes, createRandom(seedKey).next) };
}

/**
 * A view of the second family: decoded here (its augmentation runs ffmpeg, asynchronously, and mixes
 * in a second decoded item), then handed to the chain as decoded media.
 */
async function sourceView(bytes: Uint8Array, seedKey: string, mixPath: string | undefined): Promise<Media> {
  const media = await decodeMedia(bytes);
  if (media.modality !== "audio") throw new Error("not a recognised audio file");
  let partner: Float32Array | undefined;
  if (mixPath) {
    const other = await decodeMedia(await Deno.readFile(mixPath));
    if (other.modality === "audio") partner = other.audio.samples;
  }
  const { samples } = await augmentSource(media.audio.samples, createRandom(seedKey).next, partner);
  return { ...media, audio: { ...media.audio, samples } };
}

async function embed(
  path: string,
  view: number,
  seedKey: string,
  mixPath?: string,
): Promise<{ embedding: Float32Array; scores?: Float32Array }> {
  const file = await Deno.readFile(path);
  const bytes = view > SOURCE_VIEW_BASE && card!.modality === "audio" ? await sourceView(file, seedKey, mixPath) : file;
  const augment = augmentation(view, seedKey);
  if (output === "log_mel_stats") {
    const media = bytes instanceof Uint8Array ? await decodeMedia(bytes) : bytes;
    if (media.modality !== "audio") throw new Error("not a recognised audio file");
    const samples = augment.samples ? augment.samples(media.audio.samples) : media.audio.samples;
    return { embedding: logMelStats(samples, audioPreprocess(card!).logMel!) };
  }
  const scores = withScores && output === "embedding";
  const { outputs } = await encodeFile(bytes, { [card!.modality]: { card: card!, session: session! } }, {
    outputs: scores ? [output, "scores"] : [output],
    augment,
  });
  return { embedding: outputs.mean[output]!, ...(scores ? { scores: outputs.mean.scores! } : {}) };
}

const reply = (msg: ExtractReply, transfer: Transferable[] = []) => self.postMessage(msg, transfer);

self.onmessage = async (event: MessageEvent<ExtractMessage>) => {
  const msg = event.data;
  if (msg.type === "init") {
    card = msg.card;
    output = msg.output ?? "embedding";
    withScores = msg.withScores ?? false;
    if (output !== "log_mel_stats") session = await createSession(msg.onnxPath, { threads: msg.threads ?? 1 });
    reply({ type: "ready" });
    return;
  }
  try {
    const { embedding, scores } = await embed(msg.path, msg.view, msg.seedKey, msg.mixPath);
    const transfer = [embedding.buffer as ArrayBuffer, ...(scores ? [scores.buffer as ArrayBuffer] : [])];
    reply({ type: "done", key: msg.key, embedding, ...(scores ? { scores } : {}) }, transfer);
  } catch (error) {
    reply({ type: "error", key: msg.key, message: `${msg.path}: ${(error as Error).message}` });
  }
};
