import assert from "node:assert/strict";
import { join } from "node:path";
import { cosine, post, serverTest, SHARED, startTestService } from "./_service.ts";

const corpus = join(SHARED, "corpus");
const LABELS = ["violin", "drums", "saxophone"] as const;

/** `count` files of a corpus folder, evenly spaced through its sorted listing, moved on by `offset`. */
function pick(dir: string, count: number, offset = 0): string[] {
  const names = Array.from(Deno.readDirSync(join(corpus, dir)), (e) => e.name).sort();
  return Array.from(
    { length: count },
    (_, i) => join(corpus, dir, names[(Math.floor(((i + 0.5) * names.length) / count) + offset) % names.length]!),
  );
}
const photos = {
  violin: "images/gpiosenka/violin",
  drums: "images/gpiosenka/drums",
  saxophone: "images/gpiosenka/saxophone",
};
const sounds = {
  violin: "audio/iowa_pitchfinder/violin",
  drums: "audio/gtown/drums",
  saxophone: "audio/bearsax/saxophone",
};

async function request(url: string, method: string, body?: BodyInit, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method, ...(body === undefined ? {} : { body }), headers });
  return { status: res.status, json: await res.json() };
}

Deno.test(
  "collections on the real service: both modalities round trip, photos found by recordings, kept across a restart",
  serverTest,
  async (t) => {
    const kvUrl = await Deno.makeTempFile({ suffix: ".sqlite3" });
    let service = await startTestService({ kvUrl });
    const base = () => `${service.url}/v1/collections/photos`;
    try {
      await t.step("PUT a photo and a recording; GET gives back the joint embedding /v1/embed computes", async () => {
        for (
          const [id, file, modality] of [["p-photo", pick(photos.violin, 1, 9)[0]!, "image"], [
            "p-sound",
            pick(sounds.violin, 1)[0]!,
            "audio",
          ]] as const
        ) {
          const bytes = await Deno.readFile(file);
          const put = await request(`${base()}/items/${id}`, "PUT", bytes);
          assert.equal(put.status, 201, JSON.stringify(put.json));
          assert.equal(put.json.item.modality, modality);
          assert.equal(put.json.item.prediction.label, "violin");
          const got = await request(`${base()}/items/${id}`, "GET");
          const direct = await post(`${service.url}/v1/embed`, bytes);
          assert.ok(cosine(got.json.item.embedding, direct.json.embedding as number[]) > 0.999);
          assert.equal(got.json.item.sha256, direct.json.sha256);
          const again = await request(`${base()}/items/${id}`, "PUT", bytes);
          assert.equal(again.json.outcome, "unchanged");
        }
        for (const id of ["p-photo", "p-sound"]) {
          assert.equal((await request(`${base()}/items/${id}`, "DELETE")).status, 200);
        }
      });

      await t.step("index 4 photos per label; a recording of each label finds its label's photos first", async () => {
        for (const label of LABELS) {
          for (const [i, file] of pick(photos[label], 4).entries()) {
            const form = new FormData();
            form.append("file", new Blob([await Deno.readFile(file)]));
            form.append("metadata", JSON.stringify({ label, file: file.slice(corpus.length + 1) }));
            const put = await request(`${base()}/items/${label}-${i}`, "PUT", form);
            assert.equal(put.status, 201, JSON.stringify(put.json));
          }
        }
        let sameLabelInTop4 = 0;
        for (const label of LABELS) {
          const query = await Deno.readFile(pick(sounds[label], 1, 2)[0]!);
          const found = await request(`${base()}/search?top_k=4&modality=image`, "POST", query);
          assert.equal(found.status, 200, JSON.stringify(found.json));
          assert.equal(found.json.query.modality, "audio");
          const labels = found.json.results.map((r: { metadata: { label: string } }) => r.metadata.label);
          assert.equal(labels[0], label, `${label}: nearest photos are ${labels.join(", ")}`);
          sameLabelInTop4 += labels.filter((l: string) => l === label).length;
        }
        assert.ok(sameLabelInTop4 >= 10, `${sameLabelInTop4} of 12 top-4 photos have the recording's label`);
      });

      const query = await Deno.readFile(pick(sounds.drums, 1, 3)[0]!);
      const before = await request(`${base()}/search?top_k=5`, "POST", query);

      await t.step("the collection and its search answers survive a restart", async () => {
        await service.close();
        service = await startTestService({ kvUrl });
        const after = await request(`${base()}/search?top_k=5`, "POST", query);
        assert.deepEqual(after.json.results, before.json.results);
        assert.equal(after.json.collection.items, 12);
      });

      await t.step("labels taught by photos are recognised in recordings", async () => {
        const answer = await request(
          `${base()}/classify`,
          "POST",
          await Deno.readFile(pick(sounds.saxophone, 1, 4)[0]!),
        );
        assert.equal(answer.status, 200, JSON.stringify(answer.json));
        assert.equal(answer.json.taught.scores[0].label, "saxophone");
        assert.equal(answer.json.builtIn.scores.length, 3);
      });
    } finally {
      await service.close();
      await Deno.remove(kvUrl);
    }
  },
);
