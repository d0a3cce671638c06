import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeWav } from "../../../lib/media/encode_wav.ts";
import { cosine, post, serverTest, SHARED, startTestService } from "./_service.ts";

const corpus = join(SHARED, "corpus");
const jpg = join(
  corpus,
  "images/gpiosenka/violin",
  Array.from(Deno.readDirSync(join(corpus, "images/gpiosenka/violin")))[0]!.name,
);
const flacDir = join(corpus, "audio/iowa_pitchfinder/violin");
const flac = join(flacDir, Array.from(Deno.readDirSync(flacDir))[0]!.name);

function tone(seconds: number, hz = 440, rate = 16000): Float32Array {
  return new Float32Array(Math.round(seconds * rate)).map((_, i) => 0.3 * Math.sin((2 * Math.PI * hz * i) / rate));
}

Deno.test("POST /v1/embed answers with encoder embeddings for real files", serverTest, async (t) => {
  const service = await startTestService({ maxBodyBytes: 3_000_000 });
  const embed = `${service.url}/v1/embed?space=encoder`;
  try {
    await t.step("corpus JPEG -> 1280-d image embedding", async () => {
      const res = await post(embed, await Deno.readFile(jpg));
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.modality, "image");
      assert.equal(res.json.space, "encoder");
      assert.equal(res.json.encoder, "mobilenet_v2");
      assert.equal(res.json.dim, 1280);
      assert.equal((res.json.embedding as number[]).length, 1280);
      assert.match(res.headers.get("server-timing") ?? "", /decode;dur=/);
    });

    await t.step("each answer runs only the stages it needs (Server-Timing)", async () => {
      const stages = async (url: string, body: Uint8Array) => {
        const res = await post(url, new Uint8Array(body));
        assert.equal(res.status, 200, JSON.stringify(res.json));
        return (res.headers.get("server-timing") ?? "").split(", ").map((s) => s.split(";")[0]).sort();
      };
      // Inputs no other step sends: a result cache hit runs no stage at all.
      const photos = join(corpus, "images/gpiosenka/banjo");
      const photo = await Deno.readFile(join(photos, [...Deno.readDirSync(photos)].map((e) => e.name).sort()[0]!));
      const sound = encodeWav(tone(1, 523), 16000);
      for (const body of [photo, sound]) {
        // The encoder's own embedding: no translator, classifier head or presence.
        assert.deepEqual(await stages(embed, body), ["decode", "encoder", "features"]);
        // The joint space: no classifier head or presence.
        assert.deepEqual(await stages(`${service.url}/v1/embed`, body), [
          "decode",
          "encoder",
          "features",
          "translator",
        ]);
        assert.deepEqual(
          await stages(`${service.url}/v1/classify`, body),
          ["classifier", "decode", "encoder", "features", "presence", "translator"],
        );
      }
    });

    await t.step("corpus FLAC (ffmpeg path) -> 1024-d audio embedding", async () => {
      const res = await post(embed, await Deno.readFile(flac));
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.modality, "audio");
      assert.equal(res.json.dim, 1024);
    });

    await t.step("multipart field `file` works like a raw body", async () => {
      const form = new FormData();
      form.append("file", new Blob([encodeWav(tone(1), 16000)]), "tone.wav");
      const res = await post(embed, form);
      assert.equal(res.status, 200, JSON.stringify(res.json));
      assert.equal(res.json.dim, 1024);
    });

    await t.step("audio longer than the limit is analysed over its first 30 s and says so", async () => {
      const res = await post(embed, encodeWav(tone(31, 440, 8000), 8000));
      assert.equal(res.status, 200, JSON.stringify(res.json));
      const audio = res.json.audio as { truncated: boolean; analysedSeconds: number; durationSeconds: number };
      assert.equal(audio.truncated, true);
      assert.equal(audio.analysedSeconds, 30);
      assert.ok(Math.abs(audio.durationSeconds - 31) < 0.01);
    });

    await t.step("/healthz answers while a 30 s audio request is in flight", async () => {
      const long = post(embed, encodeWav(tone(30, 440, 44100), 44100));
      await new Promise((r) => setTimeout(r, 50));
      const health = await fetch(`${service.url}/healthz`);
      const body = await health.json();
      assert.equal(health.status, 200);
      assert.equal(body.status, "ok");
      assert.equal((await long).status, 200);
    });

    await t.step("two photos of one instrument are closer than photos of two instruments", async () => {
      const dir = (label: string) => join(corpus, "images/gpiosenka", label);
      const pick = (label: string, n: number) =>
        Array.from(Deno.readDirSync(dir(label))).map((e) => join(dir(label), e.name)).sort().slice(0, n);
      const vec = async (path: string) => (await post(embed, await Deno.readFile(path))).json.embedding as number[];
      const labels = ["violin", "trumpet", "drums"];
      const vecs: Record<string, number[][]> = {};
      for (const l of labels) vecs[l] = await Promise.all(pick(l, 4).map(vec));
      let same = 0, sameN = 0, diff = 0, diffN = 0;
      for (const a of labels) {
        for (const b of labels) {
          for (const [i, x] of vecs[a]!.entries()) {
            for (const [j, y] of vecs[b]!.entries()) {
              if (a === b && i >= j) continue;
              if (a === b) (same += cosine(x, y), sameN++);
              else if (a < b) (diff += cosine(x, y), diffN++);
            }
          }
        }
      }
      assert.ok(same / sameN > diff / diffN, `same ${same / sameN} vs different ${diff / diffN}`);
    });
  } finally {
    await service.close();
  }
});
