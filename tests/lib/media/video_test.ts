import assert from "node:assert/strict";
import { encodeAudio } from "../../../lib/media/ffmpeg.ts";
import { ProblemError } from "../../../lib/errors.ts";
import { decodeVideo, frameTimes, probeVideo, videoContainer } from "../../../lib/media/video.ts";
import { sine } from "./_audio.ts";
import {
  breakVp8Frames,
  claimDuration,
  type Container,
  liveWebm,
  makeVideo,
  truncatedVideo,
  violinInputs,
} from "./_videos.ts";

const { photo, sound } = await violinInputs();

Deno.test("frameTimes() takes the centres of equal parts of the span", () => {
  const cases: [number, number, number[]][] = [
    [10, 5, [1, 3, 5, 7, 9]],
    [3, 5, [0.3, 0.9, 1.5, 2.1, 2.7]],
    [2, 1, [1]],
    [0, 5, [0]],
    [0, 1, [0]],
  ];
  for (const [span, count, expected] of cases) {
    assert.deepEqual(frameTimes(span, count), expected, `${span} s, ${count}`);
  }
});

Deno.test("decodeVideo() decodes the audio track and 5 frames of MP4, WebM and MOV", async (t) => {
  for (const container of ["mp4", "webm", "mov"] as Container[]) {
    await t.step(container, async () => {
      const bytes = await makeVideo(photo, sound, { container });
      assert.equal(videoContainer(bytes), container);
      const video = await decodeVideo(bytes);
      assert.ok(video, "recognised as a video");
      assert.equal(video.format, container);
      assert.deepEqual(video.missing, []);
      assert.deepEqual(video.notes, []);
      assert.ok(Math.abs(video.durationSeconds! - 3) < 0.05, `duration ${video.durationSeconds}`);
      assert.deepEqual([video.width, video.height], [160, 160]);
      // 3 s of the recording, at 16 kHz mono, not silent.
      assert.ok(video.audio, "audio track decoded");
      assert.ok(Math.abs(video.audio.samples.length - 48000) < 400, `${video.audio.samples.length} samples`);
      assert.ok(video.audio.samples.some((s) => Math.abs(s) > 0.01));
      // Frames at the centres of five equal parts, each preprocessed as a photo: 224x224 RGB of the 160x160 video.
      assert.deepEqual(video.frames.map((f) => Math.round(f.seconds * 10) / 10), [0.3, 0.9, 1.5, 2.1, 2.7]);
      for (const { image } of video.frames) {
        assert.equal(image.pixels.length, 224 * 224 * 3);
        assert.deepEqual([image.width, image.height], [160, 160]);
      }
    });
  }
});

Deno.test("decodeVideo() leaves audio-only containers to the audio decoder", async () => {
  const tone = sine(440, 16000, 1);
  for (const format of ["mp4", "webm"] as const) {
    const bytes = await encodeAudio(tone, 16000, format);
    assert.equal(videoContainer(bytes), format);
    assert.equal(await decodeVideo(bytes), undefined, format);
    assert.equal((await probeVideo(bytes))?.video, undefined);
  }
  // An M4A brand is audio by its header: not even probed.
  assert.equal(videoContainer(await encodeAudio(tone, 16000, "m4a")), undefined);
  assert.equal(await decodeVideo(await encodeAudio(tone, 16000, "m4a")), undefined);
});

Deno.test("decodeVideo() answers from what a video has, and says what is missing", async (t) => {
  await t.step("no audio track", async () => {
    const video = await decodeVideo(await makeVideo(photo, undefined));
    assert.equal(video?.audio, undefined);
    assert.equal(video?.frames.length, 5);
    assert.deepEqual(video?.missing, ["audio"]);
    assert.deepEqual(video?.notes, ["the file has no audio track"]);
  });

  await t.step("a VP8 stream whose frames do not decode", async () => {
    const { bytes, broken } = breakVp8Frames(await makeVideo(photo, sound, { container: "webm" }));
    assert.ok(broken >= 1);
    const video = await decodeVideo(bytes);
    assert.ok(video?.audio);
    assert.equal(video.frames.length, 0);
    assert.deepEqual(video.missing, ["image"]);
    assert.match(video.notes.join(), /no frame of the vp8 video stream decoded \(.*corrupt or cut short/);
  });

  await t.step("a file cut short: the frames before the cut, the audio up to it", async () => {
    const video = await decodeVideo(await truncatedVideo(photo, sound, 0.6));
    assert.ok(video?.audio);
    assert.ok(video.audio.samples.length < 40000, `${video.audio.samples.length} samples`);
    assert.ok(video.frames.length >= 1 && video.frames.length < 5, `${video.frames.length} frames`);
    assert.deepEqual(video.missing, []);
    assert.match(video.notes.join(), /of 5 frames did not decode \(the stream is corrupt or cut short\)/);
  });

  await t.step("a one-frame video over a 3 s sound: its frame at 0 s", async () => {
    const video = await decodeVideo(await makeVideo(photo, sound, { frames: 1 }));
    assert.deepEqual(video?.frames.map((f) => f.seconds), [0]);
    assert.ok(video?.audio);
    assert.deepEqual(video?.missing, []);
  });

  await t.step("a live WebM declares no duration: frames spread over its sound, or its packets", async () => {
    const live = await liveWebm(await makeVideo(photo, sound, { container: "webm" }));
    assert.equal((await probeVideo(live))?.durationSeconds, null);
    const video = await decodeVideo(live);
    assert.equal(video?.durationSeconds, null);
    assert.deepEqual(video?.frames.map((f) => Math.round(f.seconds * 10) / 10), [0.3, 0.9, 1.5, 2.1, 2.7]);
    assert.deepEqual(video?.notes, []);
    const silent = await decodeVideo(await liveWebm(await makeVideo(photo, undefined, { container: "webm" })));
    // The last packet starts at 2.8 s (5 frames a second): the span is 2.8 s.
    assert.deepEqual(silent?.frames.map((f) => f.seconds), [0.28, 0.84, 1.4, 1.96, 2.52]);
    assert.deepEqual(silent?.notes, ["the file has no audio track"]);
  });

  await t.step("frames over the image pixel limit are not decoded", async () => {
    const video = await decodeVideo(await makeVideo(photo, sound), { maxPixels: 160 * 160 - 1 });
    assert.ok(video?.audio);
    assert.equal(video.frames.length, 0);
    assert.deepEqual(video.missing, ["image"]);
    assert.match(video.notes[0]!, /160x160 = 25600 pixels, over the image limit of 25599: none was decoded/);
  });

  await t.step("neither audio nor a frame: 422", async () => {
    const silentAndHuge = await makeVideo(photo, undefined);
    await assert.rejects(decodeVideo(silentAndHuge, { maxPixels: 100 }), (error: unknown) => {
      assert.ok(error instanceof ProblemError);
      assert.equal(error.status, 422);
      assert.match(error.message, /^Cannot decode video: the file has no audio track; frames are 160x160/);
      return true;
    });
  });
});

Deno.test("decodeVideo() refuses a header claiming 10 hours before decoding anything", async () => {
  const bytes = claimDuration(await makeVideo(photo, sound), 36_000);
  assert.equal((await probeVideo(bytes))?.durationSeconds, 36_000);
  const start = performance.now();
  await assert.rejects(decodeVideo(bytes), (error: unknown) => {
    assert.ok(error instanceof ProblemError);
    assert.equal(error.status, 422);
    assert.match(error.message, /declares 36000 s, over the limit of 600 s/);
    assert.deepEqual(error.extensions, { limit: 600, seconds: 36000 });
    return true;
  });
  // One ffprobe run and nothing else: far below a decode of the frames (no timing assertion, just the figure).
  console.log(`10-hour header refused in ${(performance.now() - start).toFixed(0)} ms`);
  // The limit is the caller's.
  assert.ok(await decodeVideo(claimDuration(await makeVideo(photo, sound), 36_000), { maxVideoSeconds: 40_000 }));
});
