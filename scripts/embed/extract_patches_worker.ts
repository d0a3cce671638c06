/**
 * Per-patch extraction worker (scripts/embed/extract_patches.ts): decodes one audio item and runs
 * the service's own front end (`decodeMedia` -> `audioInput`, as `encodeFile` does) and the derived
 * YAMNet graph, returning every patch's embedding and the activation entering its last blocks,
 * unpooled.
 *
 * Messages: {@linkcode PatchMessage} in, {@linkcode PatchReply} out.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import { createSession, type Session } from "../../lib/backend/onnx.ts";
import type { EncoderCard } from "../../lib/encoders/card.ts";
import { batchSize } from "../../lib/encoders/run_pooled.ts";
import { audioInput } from "../../lib/features/encoder_input.ts";
import { decodeMedia } from "../../lib/media/decode_media.ts";

/** What the main isolate sends: the graph to load once, then one item per job. */
export type PatchMessage =
  | { type: "init"; card: EncoderCard; onnxPath: string }
  | { type: "job"; path: string };

/** The worker's answer: per-patch rows (`count` x width each, row-major) or an error. */
export type PatchReply =
  | { type: "ready" }
  | { type: "done"; count: number; embedding: Float32Array; block: Float32Array }
  | { type: "error"; message: string };

let session: Session | undefined;
let card: EncoderCard | undefined;

async function patches(path: string): Promise<{ count: number; embedding: Float32Array; block: Float32Array }> {
  const media = await decodeMedia(await Deno.readFile(path));
  if (media.modality !== "audio") throw new Error("not a recognised audio file");
  const input = audioInput(card!, media.audio.samples);
  const itemSize = input.itemDims.reduce((a, b) => a * b, 1);
  const embeddings: Float32Array[] = [], blocks: Float32Array[] = [];
  // The service's batching (runPooled), so each patch sees the same batch shapes as when served.
  const batch = batchSize(card!, input.count);
  for (let start = 0; start < input.count; start += batch) {
    const n = Math.min(batch, input.count - start);
    const out = await session!.run({
      [card!.input.name]: {
        data: input.data.subarray(start * itemSize, (start + n) * itemSize),
        dims: [n, ...input.itemDims],
      },
    }, ["embedding", "block_in"]);
    embeddings.push(out.embedding!.data);
    blocks.push(out.block_in!.data);
  }
  const join = (parts: Float32Array[]) => {
    const all = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let o = 0;
    for (const p of parts) all.set(p, (o += p.length) - p.length);
    return all;
  };
  return { count: input.count, embedding: join(embeddings), block: join(blocks) };
}

self.onmessage = async (event: MessageEvent<PatchMessage>) => {
  const msg = event.data;
  if (msg.type === "init") {
    card = msg.card;
    session = await createSession(msg.onnxPath, { threads: 1 });
    self.postMessage({ type: "ready" } satisfies PatchReply);
    return;
  }
  try {
    const r = await patches(msg.path);
    self.postMessage({ type: "done", ...r } satisfies PatchReply, [
      r.embedding.buffer as ArrayBuffer,
      r.block.buffer as ArrayBuffer,
    ]);
  } catch (error) {
    self.postMessage({ type: "error", message: `${msg.path}: ${(error as Error).message}` } satisfies PatchReply);
  }
};
