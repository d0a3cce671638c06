import { deepStrictEqual as assertEquals, ok, rejects } from "node:assert/strict";
import { runFfmpeg } from "../../../lib/media/ffmpeg.ts";
import { videoPairs } from "../../../scripts/dataset/video_pairs.ts";
import { keepAlive, loadSharp } from "../../../lib/media/sharp.ts";

/**
 * A 3 s MP4 (MPEG-4 video + AAC audio) made by ffmpeg.wasm from lavfi
 * sources: each second has its own colour and tone, so a pair can be checked
 * for co-occurrence (red/440 Hz, then green/880 Hz, then blue/1320 Hz).
 */
async function makeVideo(): Promise<Uint8Array> {
  const video = ["red", "green", "blue"].map((c, i) => `color=c=${c}:s=64x48:r=10:d=1[v${i}]`).join(";") +
    ";[v0][v1][v2]concat=n=3:v=1:a=0[out0]";
  const audio = [440, 880, 1320].map((f, i) => `sine=frequency=${f}:sample_rate=16000:duration=1[a${i}]`).join(";") +
    ";[a0][a1][a2]concat=n=3:v=0:a=1[out0]";
  return await runFfmpeg(new Uint8Array(0), [
    "-hide_banner",
    "-f",
    "lavfi",
    "-i",
    video,
    "-f",
    "lavfi",
    "-i",
    audio,
    "-c:v",
    "mpeg4",
    "-q:v",
    2,
    "-c:a",
    "aac",
    "-b:a",
    "128k",
    "-shortest",
    "-f",
    "mp4",
    "out",
  ]);
}

/** Dominant frequency by zero crossings, Hz. */
function frequency(samples: Float32Array): number {
  let crossings = 0;
  // Skip the edges, where the AAC codec and the tone switch blur the signal.
  for (let i = 2000; i < samples.length - 2000; i++) if (samples[i - 1]! < 0 && samples[i]! >= 0) crossings++;
  return crossings / ((samples.length - 4000) / 16000);
}

Deno.test("videoPairs() returns co-occurring 1 s audio and frames", async () => {
  const video = await makeVideo();
  const pairs = await videoPairs(video);
  assertEquals(pairs.map((p) => p.startSeconds), [0, 1, 2]);
  const sharp = await loadSharp();
  const expected = [{ hz: 440, rgb: [255, 0, 0] }, { hz: 880, rgb: [0, 128, 0] }, { hz: 1320, rgb: [0, 0, 255] }];
  for (let k = 0; k < pairs.length; k++) {
    const pair = pairs[k]!;
    assertEquals(pair.audio.length, 16000);
    ok(Math.abs(frequency(pair.audio) - expected[k]!.hz) < 30, `pair ${k}: ${frequency(pair.audio)} Hz`);
    const { data, info } = await keepAlive(sharp(pair.frame).raw().toBuffer({ resolveWithObject: true }));
    assertEquals([info.width, info.height], [64, 48]);
    const centre = (24 * 64 + 32) * info.channels;
    const rgb = [data[centre]!, data[centre + 1]!, data[centre + 2]!];
    rgb.forEach((v, c) => ok(Math.abs(v - expected[k]!.rgb[c]!) < 40, `pair ${k}: frame colour ${rgb}`));
  }
  assertEquals((await videoPairs(video, { maxPairs: 2 })).length, 2);
  assertEquals((await videoPairs(video, { hopSeconds: 0.5 })).map((p) => p.frameSeconds), [0.5, 1, 1.5, 2, 2.5]);
});

Deno.test("videoPairs() rejects audio without video", async () => {
  const audioOnly = await runFfmpeg(new Uint8Array(0), [
    "-f",
    "lavfi",
    "-i",
    "sine=frequency=440:sample_rate=16000:duration=2",
    "-c:a",
    "aac",
    "-f",
    "mp4",
    "out",
  ]);
  await rejects(videoPairs(audioOnly), /video frame/);
});
