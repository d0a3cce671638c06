import assert from "node:assert/strict";
import { DecodeFirst } from "../../../lib/worker/decode_first.ts";
import { ProblemError } from "../../../lib/errors.ts";
import type { JobRunner, PoolStats } from "../../../lib/worker/pool.ts";
import type { JobRequest, JobResults } from "../../../lib/worker/protocol.ts";
import type { Media } from "../../../lib/media/decode_media.ts";
import { encodeWav } from "../../../lib/media/encode_wav.ts";
import { encodeImage, quadrants } from "../media/_images.ts";
import { jpegWithSize } from "../../integration/hostile/_lying_images.ts";

/** Records what reaches inference: decoded media or bytes. */
class Recorder implements JobRunner {
  jobs: JobRequest[] = [];
  run<J extends JobRequest>(job: J): Promise<JobResults[J["op"]]> {
    this.jobs.push(job);
    const result = { modality: "image", space: "encoder", encoder: "x", dim: 0, embedding: [], timings: {} };
    return Promise.resolve(result as unknown as JobResults[J["op"]]);
  }
  stats(): PoolStats {
    return { workers: 1, ready: 1, busy: 0, queued: 0, restarts: 0, loaded: [] };
  }
  close(): void {}
}

const job = (bytes: Uint8Array) => ({ op: "embed", bytes, options: { space: "encoder" } }) as const;
const jpeg = () => encodeImage(quadrants(320, 240), { width: 320, height: 240, channels: 3 }, "jpeg");
const quiet = { log: () => {} };

Deno.test("DecodeFirst.run() decodes an image here and hands the pixels on; audio goes on as bytes", async () => {
  const inner = new Recorder();
  const front = new DecodeFirst(inner, { decode: { maxPixels: 40e6 }, ...quiet });
  const result = await front.run(job(await jpeg()));
  const media = inner.jobs[0]!.media!;
  assert.equal(media.modality, "image");
  assert.equal(media.modality === "image" && media.image.pixels.length, 224 * 224 * 3);
  assert.equal(inner.jobs[0]!.bytes, undefined);
  assert.ok(result.timings.decode! > 0, "the decode time is reported");
  const wav = encodeWav(new Float32Array(1600), 16000);
  await front.run(job(wav));
  assert.equal(inner.jobs[1]!.bytes, wav);
  assert.ok(front.stats().loaded.includes("sharp"));
});

Deno.test("DecodeFirst.run() answers libvips' refusal and the header pixel check with 422, and keeps decoding", async () => {
  const inner = new Recorder();
  const front = new DecodeFirst(inner, { decode: { maxPixels: 1e6 }, ...quiet });
  const good = await jpeg();
  const cases: [string, Uint8Array][] = [
    ["truncated JPEG", good.slice(0, 200)],
    ["garbage after a JPEG signature", new Uint8Array([0xff, 0xd8, 0xff, 0xe0, ...new Uint8Array(300).fill(7)])],
    ["header claims 40000x30000", jpegWithSize(good, 40000, 30000)],
  ];
  for (const [name, bytes] of cases) {
    const error = await front.run(job(bytes)).catch((e) => e);
    assert.ok(error instanceof ProblemError, name);
    assert.equal(error.status, 422, `${name}: ${error.message}`);
  }
  assert.equal(inner.jobs.length, 0);
  await front.run(job(good));
  assert.ok(inner.jobs[0]!.media, "still decoding in this isolate");
  assert.equal(front.decodingHere, true);
});

Deno.test("DecodeFirst.run() answers a decoder trap with 500 and sends later images to the workers", async () => {
  const inner = new Recorder();
  const front = new DecodeFirst(inner, {
    decode: { maxPixels: 40e6 },
    decodeMedia: () => Promise.reject(new WebAssembly.RuntimeError("Aborted(test)")),
    ...quiet,
  });
  const error = await front.run(job(await jpeg())).catch((e) => e);
  assert.ok(error instanceof ProblemError);
  assert.equal(error.status, 500);
  assert.equal(front.decodingHere, false);
  const bytes = await jpeg();
  await front.run(job(bytes));
  assert.equal(inner.jobs[0]!.bytes, bytes, "the image went on as bytes");
});

Deno.test("DecodeFirst.run() under load: a decoder trap fails only its own image, the others go to the workers", async () => {
  const inner = new Recorder();
  const poison = new Uint8Array([...await jpeg(), 1]);
  let trapped = false;
  const front = new DecodeFirst(inner, {
    decode: { maxPixels: 40e6 },
    concurrency: 4,
    // One WASM instance for all decodes: once the poison aborts it, every decode still running on it fails too.
    decodeMedia: async (bytes) => {
      await new Promise((r) => setTimeout(r, bytes === poison ? 10 : 40));
      if (bytes === poison) trapped = true;
      if (trapped) throw new WebAssembly.RuntimeError("Aborted(test)");
      return { modality: "image", format: "jpeg", image: { pixels: new Uint8Array(3), width: 1, height: 1 } } as Media;
    },
    ...quiet,
  });
  const images = await Promise.all(Array.from({ length: 7 }, () => jpeg()));
  images.splice(2, 0, poison);
  const outcomes = await Promise.all(
    images.map((bytes) => front.run(job(bytes)).then(() => 200, (e) => e instanceof ProblemError ? e.status : 0)),
  );
  assert.deepEqual(outcomes, [200, 200, 500, 200, 200, 200, 200, 200]);
  assert.equal(front.decodingHere, false);
  assert.deepEqual(
    inner.jobs.map((j) => j.bytes !== undefined).sort(),
    Array(7).fill(true),
    "the 7 others reached the workers as bytes (decoded there)",
  );
});

Deno.test("DecodeFirst.run() answers 504 at the deadline, frees the slot when the decode ends, refuses beyond the queue", async () => {
  const inner = new Recorder();
  const stuck: ((m: Media) => void)[] = [];
  const front = new DecodeFirst(inner, {
    decode: { maxPixels: 40e6 },
    timeoutMs: 100,
    concurrency: 1,
    queueSize: 1,
    decodeMedia: () => new Promise<Media>((resolve) => stuck.push(resolve)),
    ...quiet,
  });
  const bytes = await jpeg();
  const first = front.run(job(bytes.slice())).catch((e) => e);
  const second = front.run(job(bytes.slice())).catch((e) => e);
  const third = await front.run(job(bytes.slice())).catch((e) => e);
  assert.equal(third.status, 503, "one running, one waiting: the third is refused");
  assert.equal((await first).status, 504);
  assert.equal((await second).status, 504, "timed out while waiting for the slot");
  assert.equal(stuck.length, 1, "the waiting one never started");
  const pixels = new Uint8Array(224 * 224 * 3);
  stuck[0]!({ modality: "image", format: "jpeg", image: { pixels, width: 224, height: 224 } });
  await new Promise((r) => setTimeout(r, 10));
  const next = front.run(job(bytes.slice()));
  await new Promise((r) => setTimeout(r, 10));
  stuck[1]!({ modality: "image", format: "jpeg", image: { pixels, width: 224, height: 224 } });
  await next;
  assert.ok(inner.jobs[0]!.media, "the slot was freed and reused");
});
