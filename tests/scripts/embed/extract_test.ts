import assert from "node:assert/strict";
import { join } from "node:path";
import { type EmbedItem, extractEmbeddings } from "../../../scripts/embed/extract.ts";
import { ensureEncoders } from "../../../lib/weights/ensure_encoders.ts";
import { createSession } from "../../../lib/backend/onnx.ts";
import { decodeImage } from "../../../lib/media/decode_image.ts";
import { encode } from "../../../lib/encoders/encode.ts";
import { audioInput, imageInput } from "../../../lib/features/encoder_input.ts";
import { decodeMedia } from "../../../lib/media/decode_media.ts";
import { augmentSource } from "../../../scripts/embed/augment_source.ts";
import { createRandom } from "../../../scripts/shared/random.ts";
import { loadConfig } from "../../../lib/config.ts";
import type { ImagePreprocess } from "../../../lib/encoders/card.ts";
import { readF32 } from "../train/parity_helpers.ts";

const CORPUS = join(loadConfig().sharedDir, "corpus");

Deno.test({
  name: "extractEmbeddings() caches rows, resumes, drops moved items and matches the service's embedding",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { mobilenet_v2: encoder } = await ensureEncoders({ names: ["mobilenet_v2"], log: () => {} });
    const dir = join(CORPUS, "images/gpiosenka/banjo");
    const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort().slice(0, 3);
    const items: EmbedItem[] = files.map((f, i) => ({
      id: `t/${f}`,
      file: join(dir, f),
      split: i === 0 ? "classify-train" : "classify-test",
      modality: "image",
      label: "banjo",
      domain: "photo",
      group: "g",
      source: "gpiosenka",
    }));
    const cacheRoot = await Deno.makeTempDir({ prefix: "amodal-embed-" });
    try {
      const opts = { items, encoder: encoder!, cacheRoot, views: 1, seed: 7, workers: 1, log: () => {} };
      const first = await extractEmbeddings(opts);
      // 3 originals + 1 augmented view of the one training item.
      assert.equal(first.computed, 4);
      assert.deepEqual([first.rows["classify-train"], first.rows["classify-test"]], [2, 2]);
      const again = await extractEmbeddings(opts);
      assert.equal(again.computed, 0);
      assert.equal(again.dir, first.dir);

      // The cached original equals what the service computes for the same file.
      const rows = (await Deno.readTextFile(join(first.dir, "classify-test.jsonl"))).trim().split("\n").map((l) =>
        JSON.parse(l)
      );
      const data = await readF32(join(first.dir, "classify-test.f32"));
      const k = rows.findIndex((r) => r.id === items[1]!.id);
      const p = encoder!.card.preprocess as ImagePreprocess;
      const session = await createSession(encoder!.onnxPath, { threads: 1 });
      const { pixels } = await decodeImage(await Deno.readFile(items[1]!.file), {
        size: p.size,
        centralFraction: p.centralFraction,
      });
      const want = (await encode(session, encoder!.card, imageInput(encoder!.card, pixels))).mean.embedding!;
      assert.deepEqual(data.subarray(k * 1280, (k + 1) * 1280), want);

      // An item that moved to another split is dropped from its old split and embedded in the new one.
      items[2]!.split = "retrieval";
      const moved = await extractEmbeddings(opts);
      assert.equal(moved.computed, 1);
      assert.deepEqual([moved.rows["classify-test"], moved.rows["retrieval"]], [1, 1]);
      assert.equal((await Deno.stat(join(first.dir, "classify-test.f32"))).size, 1280 * 4);
    } finally {
      await Deno.remove(cacheRoot, { recursive: true });
    }
  },
});

Deno.test({
  name: "extractEmbeddings() withScores stores the encoder's class scores of the same rows and keeps them aligned",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { mobilenet_v2: encoder } = await ensureEncoders({ names: ["mobilenet_v2"], log: () => {} });
    const dir = join(CORPUS, "images/gpiosenka/banjo");
    const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort().slice(0, 3);
    const items: EmbedItem[] = files.map((f) => ({
      id: `t/${f}`,
      file: join(dir, f),
      split: "classify-test",
      modality: "image",
      label: "banjo",
      domain: "photo",
      group: "g",
      source: "gpiosenka",
    }));
    const cacheRoot = await Deno.makeTempDir({ prefix: "amodal-embed-" });
    try {
      const sdim = 1001;
      const opts = { items, encoder: encoder!, cacheRoot, views: 0, seed: 7, workers: 1, log: () => {} };
      const first = await extractEmbeddings({ ...opts, withScores: true, scoresDim: sdim });
      assert.match(first.dir, /mobilenet_v2\+scores-/);
      assert.equal(JSON.parse(await Deno.readTextFile(join(first.dir, "meta.json"))).scoresDim, sdim);
      // A dropped item leaves embeddings and scores cut the same way.
      items[0]!.split = "retrieval";
      await extractEmbeddings({ ...opts, withScores: true, scoresDim: sdim, roles: ["classify-test"] });
      const rows = (await Deno.readTextFile(join(first.dir, "classify-test.jsonl"))).trim().split("\n").map((l) =>
        JSON.parse(l)
      );
      assert.equal(rows.length, 2);
      const scores = await readF32(join(first.dir, "classify-test.scores.f32"));
      assert.equal(scores.length, 2 * sdim);
      const k = rows.findIndex((r) => r.id === items[2]!.id);
      const p = encoder!.card.preprocess as ImagePreprocess;
      const session = await createSession(encoder!.onnxPath, { threads: 1 });
      const { pixels } = await decodeImage(await Deno.readFile(items[2]!.file), {
        size: p.size,
        centralFraction: p.centralFraction,
      });
      const want = (await encode(session, encoder!.card, imageInput(encoder!.card, pixels), ["scores"])).mean.scores!;
      assert.deepEqual(scores.subarray(k * sdim, (k + 1) * sdim), want);
      await assert.rejects(extractEmbeddings({ ...opts, withScores: true }), RangeError);
    } finally {
      await Deno.remove(cacheRoot, { recursive: true });
    }
  },
});

Deno.test({
  name: "extractEmbeddings() embeds views of the second family (101..) with a same-label partner mixed in",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const { yamnet: encoder } = await ensureEncoders({ names: ["yamnet"], log: () => {} });
    const dir = join(CORPUS, "audio/bearsax/saxophone");
    const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((f) => f.endsWith(".flac")).sort().slice(0, 2);
    const items: EmbedItem[] = files.map((f, i) => ({
      id: `t/${f}`,
      file: join(dir, f),
      split: i === 0 ? "translation-train" : "classify-train",
      modality: "audio",
      label: "saxophone",
      domain: "recording",
      group: "g",
      source: "bearsax",
    }));
    const cacheRoot = await Deno.makeTempDir({ prefix: "amodal-embed-" });
    try {
      const opts = {
        items,
        encoder: encoder!,
        cacheRoot,
        views: 0,
        sourceViews: 1,
        seed: 7,
        workers: 1,
        log: () => {},
      };
      const first = await extractEmbeddings(opts);
      assert.equal(first.computed, 4);
      const rows = (await Deno.readTextFile(join(first.dir, "translation-train.jsonl"))).trim().split("\n").map((l) =>
        JSON.parse(l)
      );
      assert.deepEqual(rows.map((r) => r.view).sort(), [0, 101]);
      // The view is the service's embedding of augmentSource() on the item, with the other item as partner.
      const decode = async (file: string) => {
        const media = await decodeMedia(await Deno.readFile(file));
        if (media.modality !== "audio") throw new Error(file);
        return media.audio.samples;
      };
      const key = `${items[0]!.id}#101#7`;
      const { samples } = await augmentSource(
        await decode(items[0]!.file),
        createRandom(key).next,
        await decode(items[1]!.file),
      );
      const session = await createSession(encoder!.onnxPath, { threads: 1 });
      const want = (await encode(session, encoder!.card, audioInput(encoder!.card, samples))).mean.embedding!;
      const data = await readF32(join(first.dir, "translation-train.f32"));
      const k = rows.findIndex((r) => r.view === 101);
      assert.deepEqual(data.subarray(k * 1024, (k + 1) * 1024), want);
    } finally {
      await Deno.remove(cacheRoot, { recursive: true });
    }
  },
});
