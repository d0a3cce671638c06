import assert from "node:assert/strict";
import { serverTest } from "../http/_service.ts";
import {
  cutPoints,
  flipBytes,
  type HostileCase,
  magicOnNoise,
  random,
  send,
  sendAll,
  startHostileService,
} from "./_hostile.ts";
import {
  breakVp8Frames,
  claimDuration,
  claimWebmDuration,
  type Container,
  makeVideo,
  truncatedVideo,
  violinInputs,
} from "../../lib/media/_videos.ts";

/** Magic bytes each container is sniffed by. */
const MAGIC: Record<Container, Uint8Array | string> = {
  mp4: "\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41",
  webm: new Uint8Array([0x1a, 0x45, 0xdf, 0xa3]),
  mov: "\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ",
};

/** Truncations, byte flips and magic-on-noise for one valid video (few random cuts: each failed run reloads ffmpeg). */
function mutations(container: Container, valid: Uint8Array, seed: number): HostileCase[] {
  const rand = random(seed);
  const cases: HostileCase[] = cutPoints(valid.length, rand, 1).map((cut) => ({
    name: `${container} cut at ${cut}/${valid.length}`,
    body: valid.slice(0, cut),
  }));
  for (const [count, from, to] of [[1, 0, 64], [4, 0, 64], [8, 0, valid.length], [64, 0, valid.length]]) {
    cases.push({
      name: `${container} ${count} bytes flipped in [${from}, ${to})`,
      body: flipBytes(valid, rand, count!, from, to),
    });
  }
  for (const length of [64, 4096]) {
    cases.push({
      name: `${container} magic + ${length} random bytes`,
      body: magicOnNoise(MAGIC[container], length, rand),
      expect: [415, 422],
    });
  }
  return cases;
}

Deno.test("POST /v1/classify survives hostile videos of every container", serverTest, async (t) => {
  const service = await startHostileService();
  const url = `${service.url}/v1/classify`;
  const { photo, sound } = await violinInputs();
  const valid: Record<Container, Uint8Array> = {
    mp4: await makeVideo(photo, sound, { seconds: 2 }),
    webm: await makeVideo(photo, sound, { container: "webm", seconds: 2 }),
    mov: await makeVideo(photo, sound, { container: "mov", seconds: 2 }),
  };
  const tally: Record<number, number> = {};
  try {
    await t.step("valid videos classify", async () => {
      const cases = Object.entries(valid).map(([c, body]) => ({ name: `${c} valid`, body, expect: [200] }));
      assert.deepEqual(await sendAll(url, cases), { 200: 3 });
    });

    await t.step("headers claiming 10 hours: 422 before anything is decoded", async () => {
      const cases: HostileCase[] = [
        { name: "mp4 claiming 10 h", body: claimDuration(valid.mp4, 36_000), expect: [422] },
        { name: "mov claiming 10 h", body: claimDuration(valid.mov, 36_000), expect: [422] },
        { name: "webm claiming 10 h", body: claimWebmDuration(valid.webm, 36_000), expect: [422] },
      ];
      const start = performance.now();
      for (const c of cases) {
        assert.match((await send(url, c)).detail, /^Video declares 36000 s, over the limit/, c.name);
      }
      console.log(`three 10-hour headers refused in ${(performance.now() - start).toFixed(0)} ms`);
    });

    await t.step("broken and cut streams answer from what is left, or 422", async () => {
      const cases: HostileCase[] = [
        { name: "webm with undecodable VP8", body: breakVp8Frames(valid.webm).bytes, expect: [200] },
      ];
      for (const fraction of [0.1, 0.3, 0.6, 0.9]) {
        cases.push({
          name: `faststart mp4 cut to ${fraction * 100} %`,
          body: await truncatedVideo(photo, sound, fraction),
        });
      }
      const h = await sendAll(url, cases);
      for (const [status, n] of Object.entries(h)) tally[+status] = (tally[+status] ?? 0) + n;
    });

    for (const [i, container] of (["mp4", "webm", "mov"] as Container[]).entries()) {
      await t.step(`${container}: truncated, flipped, magic on noise`, async () => {
        const h = await sendAll(url, mutations(container, valid[container], 300 + i));
        for (const [status, n] of Object.entries(h)) tally[+status] = (tally[+status] ?? 0) + n;
      });
    }

    await t.step("the service still serves and no worker was replaced", async () => {
      const cases = Object.entries(valid).map(([c, body]) => ({ name: `${c} again`, body, expect: [200] }));
      assert.deepEqual(await sendAll(url, cases), { 200: 3 });
      assert.equal(service.pool.stats().restarts, 0);
      console.log(`video cases: ${JSON.stringify(tally)}`);
    });
  } finally {
    await service.close();
  }
});
