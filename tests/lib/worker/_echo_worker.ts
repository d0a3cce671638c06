/**
 * A worker that speaks the inference protocol without models, for the pool's unit tests: the body's
 * first byte picks what it does: 0 answers at once (embedding = [body length]), 1 after 200 ms,
 * 2 crashes, 3 hangs, 4 answers a 422.
 *
 * @module
 */
/// <reference lib="deno.worker" />
import type { InitMessage, JobMessage, WorkerReply } from "../../../lib/worker/protocol.ts";

const reply = (msg: WorkerReply) => self.postMessage(msg);

self.onmessage = async (event: MessageEvent<InitMessage | JobMessage>) => {
  const msg = event.data;
  if (msg.type === "init") return reply({ type: "ready", hasJointSpace: false, loaded: [] });
  const bytes = msg.bytes ?? new Uint8Array(0);
  const mode = bytes[0];
  if (mode === 1) await new Promise((r) => setTimeout(r, 200));
  if (mode === 2) {
    setTimeout(() => {
      throw new Error("echo worker crash");
    });
  }
  if (mode === 2 || mode === 3) {
    while (mode === 3) { /* hang */ }
    return;
  }
  if (mode === 4) {
    return reply({
      type: "result",
      id: msg.id,
      ok: false,
      error: { status: 422, detail: "Cannot decode" },
      loaded: [],
    });
  }
  const embedding = [bytes.length];
  reply({
    type: "result",
    id: msg.id,
    ok: true,
    loaded: ["echo"],
    result: { modality: "audio", space: "encoder", encoder: "echo", dim: 1, embedding, timings: {} },
  });
};
