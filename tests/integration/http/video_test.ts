import assert from "node:assert/strict";
import { cosine, post, serverTest, startTestService } from "./_service.ts";
import { type OpenApiDocument, ResponseChecker } from "../../routes/_openapi.ts";
import { fromFloat32Base64 } from "../../../lib/http/float32.ts";
import { encodeAudio } from "../../../lib/media/ffmpeg.ts";
import { breakVp8Frames, claimDuration, type Container, makeVideo, violinInputs } from "../../lib/media/_videos.ts";

type Json = Record<string, unknown>;
type Result = { label: string | null; score: number | null; scores: { label: string; score: number }[] };

Deno.test(
  "POST /v1/classify on videos: the audio track and frames, fused, each modality beside",
  serverTest,
  async (t) => {
    // Collections (the last step) store in a KV file of their own.
    const kvUrl = await Deno.makeTempFile({ suffix: ".sqlite3" });
    const service = await startTestService({ kvUrl });
    const url = (path: string) => `${service.url}${path}`;
    const { photo, sound } = await violinInputs();
    try {
      const checker = new ResponseChecker(await (await fetch(url("/openapi.json"))).json() as OpenApiDocument);
      const classify = async (body: Uint8Array<ArrayBuffer>, query = "") => {
        const res = await fetch(url(`/v1/classify${query}`), { method: "POST", body });
        return await checker.check("POST", "/v1/classify", res) as Json;
      };

      for (const container of ["mp4", "webm", "mov"] as Container[]) {
        await t.step(
          `a violin ${container} (corpus photo + corpus recording) is a violin, by sound and by sight`,
          async () => {
            const body = await classify(await makeVideo(photo, sound, { container }));
            assert.equal(body.modality, "video");
            assert.equal(body.label, "violin", JSON.stringify(body));
            const { audio, image } = body.modalities as { audio: Result; image: Result & { frames: Result[] } };
            assert.equal(audio.label, "violin");
            assert.equal(image.label, "violin");
            assert.equal(image.frames.length, 5);
            assert.deepEqual(body.video, {
              durationSeconds: (body.video as Json).durationSeconds,
              width: 160,
              height: 160,
              frames: 5,
            });
            assert.equal(body.missing, undefined);
            // The documented rule: the mean of the two modalities' probability vectors.
            const mean = (audio.scores.find((s) => s.label === "violin")!.score +
              image.scores.find((s) => s.label === "violin")!.score) / 2;
            assert.ok(Math.abs((body.score as number) - mean) < 2e-6, `${body.score} vs ${mean}`);
            assert.ok((body.audio as Json).analysedSeconds as number > 2.9);
          },
        );
      }

      await t.step("?top_k trims the answer's and each modality's scores", async () => {
        const body = await classify(await makeVideo(photo, sound), "?top_k=2");
        const { audio, image } = body.modalities as { audio: Result; image: Result };
        assert.deepEqual([(body.scores as unknown[]).length, audio.scores.length, image.scores.length], [2, 2, 2]);
      });

      await t.step("a video without audio answers from its frames and says so", async () => {
        const body = await classify(await makeVideo(photo, undefined));
        assert.equal(body.label, "violin");
        assert.deepEqual(body.missing, ["audio"]);
        assert.deepEqual(body.notes, ["the file has no audio track"]);
        assert.deepEqual(Object.keys(body.modalities as Json), ["image"]);
        assert.equal(body.audio, undefined);
      });

      await t.step("a video whose frames do not decode answers from its sound and says so", async () => {
        const { bytes } = breakVp8Frames(await makeVideo(photo, sound, { container: "webm" }));
        const body = await classify(bytes);
        assert.equal(body.label, "violin");
        assert.deepEqual(body.missing, ["image"]);
        assert.match((body.notes as string[])[0]!, /no frame of the vp8 video stream decoded/);
        assert.deepEqual(Object.keys(body.modalities as Json), ["audio"]);
        assert.equal((body.video as Json).frames, 0);
      });

      await t.step("a one-frame video: one frame, and the sound", async () => {
        const body = await classify(await makeVideo(photo, sound, { frames: 1 }));
        assert.equal(body.label, "violin");
        assert.equal((body.modalities as { image: { frames: unknown[] } }).image.frames.length, 1);
      });

      await t.step("audio-only MP4 and WebM answer as audio, exactly as before", async () => {
        const flac = await classify(sound);
        for (const format of ["mp4", "webm"] as const) {
          const body = await classify(
            (await encodeAudio(new Float32Array(16000).map((_, i) => Math.sin(i / 5) * 0.3), 16000, format)).slice(),
          );
          assert.equal(body.modality, "audio", format);
          assert.deepEqual(Object.keys(body).sort(), Object.keys(flac).sort(), format);
        }
      });

      await t.step("a header claiming 10 hours is refused with 422 problem+json, nothing decoded", async () => {
        const res = await post(url("/v1/classify"), claimDuration(await makeVideo(photo, sound), 36_000));
        assert.equal(res.status, 422);
        assert.equal(res.type, "application/problem+json");
        assert.match(String(res.json.detail), /declares 36000 s, over the limit of 600 s/);
        assert.equal(res.json.limit, 600);
      });

      await t.step(
        "/v1/embed: the audio track's vector, each modality's beside it, in the asked encoding",
        async () => {
          const video = await makeVideo(photo, sound);
          const check = async (query: string) =>
            await checker.check(
              "POST",
              "/v1/embed",
              await fetch(url(`/v1/embed${query}`), { method: "POST", body: video }),
            ) as {
              modality: string;
              dim: number;
              encoder: string;
              embedding: number[] | string;
              modalities: Record<
                string,
                { encoder: string; dim: number; embedding: number[] | string; frames?: number }
              >;
            };
          const joint = await check("");
          assert.equal(joint.modality, "video");
          assert.deepEqual(joint.embedding, joint.modalities.audio!.embedding);
          assert.equal(joint.modalities.image!.frames, 5);
          const norm = Math.hypot(...joint.modalities.image!.embedding as number[]);
          assert.ok(Math.abs(norm - 1) < 1e-4, `image mean renormalised: ${norm}`);
          const encoder = await check("?space=encoder&encoding=base64");
          assert.deepEqual(
            [
              encoder.modalities.audio!.encoder,
              encoder.modalities.audio!.dim,
              encoder.modalities.image!.encoder,
              encoder.modalities.image!.dim,
            ],
            ["yamnet", 1024, "mobilenet_v2", 1280],
          );
          assert.equal(fromFloat32Base64(encoder.modalities.image!.embedding as string).length, 1280);
          // Without audio, the answer's vector is the frames' mean.
          const silent = await checker.check(
            "POST",
            "/v1/embed",
            await fetch(url("/v1/embed"), { method: "POST", body: await makeVideo(photo, undefined) }),
          ) as { embedding: number[]; modalities: { image: { embedding: number[] } }; missing: string[] };
          assert.deepEqual(silent.embedding, silent.modalities.image.embedding);
          assert.deepEqual(silent.missing, ["audio"]);
        },
      );

      await t.step("a batch item that is a video answers as /v1/classify does", async () => {
        const video = await makeVideo(photo, sound, { container: "mov" });
        const form = new FormData();
        form.append("file", new File([video], "violin.mov"));
        form.append("file", new File([photo], "violin.jpg"));
        const res = await fetch(url("/v1/batch?top_k=3"), { method: "POST", body: form });
        const body = await checker.check("POST", "/v1/batch", res) as { items: { status: number; result: Json }[] };
        assert.deepEqual(body.items.map((i) => [i.status, i.result.modality, i.result.label]), [
          [200, "video", "violin"],
          [200, "image", "violin"],
        ]);
        assert.equal((body.items[0]!.result.modalities as { audio: Result }).audio.scores.length, 3);
      });

      await t.step(
        "a collection stores a video under its vector's modality, with the vector /v1/embed gives",
        async () => {
          for (
            const [id, video, modality] of [
              ["with-sound", await makeVideo(photo, sound), "audio"],
              ["silent", await makeVideo(photo, undefined), "image"],
            ] as const
          ) {
            const put = await fetch(url(`/v1/collections/videos/items/${id}`), { method: "PUT", body: video });
            const body = await put.json();
            assert.equal(put.status, 201, JSON.stringify(body));
            assert.equal(body.item.modality, modality);
            assert.equal(body.item.prediction.label, "violin");
            const got = await (await fetch(url(`/v1/collections/videos/items/${id}`))).json();
            const direct = await post(url("/v1/embed"), video);
            assert.ok(cosine(got.item.embedding, direct.json.embedding as number[]) > 0.999, id);
          }
        },
      );
    } finally {
      await service.close();
      await Deno.remove(kvUrl).catch(() => {});
    }
  },
);
