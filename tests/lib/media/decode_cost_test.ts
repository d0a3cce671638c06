import assert from "node:assert/strict";
import { estimateDecodeBytes, VIDEO_FRAMES_BYTES } from "../../../lib/media/decode_cost.ts";
import { encodeAudio } from "../../../lib/media/ffmpeg.ts";
import { makeVideo, violinInputs } from "./_videos.ts";
import { sine } from "./_audio.ts";

/** 30 s of 48 kHz stereo through ffmpeg (three float copies) plus the 16 kHz mono copy: the assumed audio track. */
const AUDIO_TRACK = 30 * (48_000 * 2 * 4 * 3 + 16_000 * 4);

Deno.test("estimateDecodeBytes() adds the frames' allowance to containers that hold or may hold video", async (t) => {
  const { photo, sound } = await violinInputs();
  const tone = sine(440, 44_100, 1, 0.5);
  const cases: [string, Uint8Array, boolean][] = [
    ["MOV with MPEG-4 frames", await makeVideo(photo, sound, { container: "mov", seconds: 1 }), true],
    ["MP4 with H.264 frames", await makeVideo(photo, sound, { container: "mp4", seconds: 1 }), true],
    ["WebM with VP8 frames", await makeVideo(photo, sound, { container: "webm", seconds: 1 }), true],
    ["MP4 of sound only (AAC)", await encodeAudio(tone, 44_100, "mp4"), false],
    ["M4A", await encodeAudio(tone, 44_100, "m4a"), false],
    ["WebM of sound only (Opus)", await encodeAudio(tone, 44_100, "webm"), false],
    ["MP3", await encodeAudio(tone, 44_100, "mp3"), false],
  ];
  for (const [name, bytes, video] of cases) {
    await t.step(name, () => {
      const estimate = estimateDecodeBytes(bytes, { totalBytes: bytes.length });
      assert.equal(estimate, bytes.length + AUDIO_TRACK + (video ? VIDEO_FRAMES_BYTES : 0));
    });
  }
  await t.step("an MP4 whose first bytes do not reach its track list (moov at the end) counts as a video", async () => {
    const mp4 = await encodeAudio(tone, 44_100, "mp4");
    const head = mp4.subarray(0, 32); // ftyp only
    assert.equal(estimateDecodeBytes(head, { totalBytes: mp4.length }), mp4.length + AUDIO_TRACK + VIDEO_FRAMES_BYTES);
  });
});
