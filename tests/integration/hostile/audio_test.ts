import assert from "node:assert/strict";
import { serverTest } from "../http/_service.ts";
import {
  AUDIO_FORMATS,
  cutPoints,
  flipBytes,
  type HostileCase,
  magicOnNoise,
  random,
  rss,
  sendAll,
  startHostileService,
  validAudio,
} from "./_hostile.ts";
import { lyingAiffs, lyingFlacs, lyingM4as, lyingMp3s, lyingOggs, lyingWavs, lyingWebms } from "./_lying_audio.ts";

type Format = (typeof AUDIO_FORMATS)[number];

/** Magic bytes each format is sniffed by. */
const MAGIC: Record<Format, Uint8Array | string> = {
  wav: "RIFF\x00\x10\x00\x00WAVEfmt ",
  aiff: "FORM\x00\x10\x00\x00AIFFCOMM",
  mp3: new Uint8Array([0xff, 0xfb, 0x90, 0x64]),
  ogg: "OggS\x00\x02",
  flac: "fLaC\x00\x00\x00\x22",
  m4a: "\x00\x00\x00\x1cftypM4A \x00\x00\x02\x00M4A isom",
  webm: new Uint8Array([0x1a, 0x45, 0xdf, 0xa3]),
};

/**
 * Truncations, byte flips and magic-on-noise for one valid file. ffmpeg
 * loads a fresh core after every failed decode (~0.4 s), so the compressed
 * formats get fewer random cut points than WAV.
 */
function mutations(format: Format, valid: Uint8Array, seed: number): HostileCase[] {
  const rand = random(seed);
  const cases: HostileCase[] = cutPoints(valid.length, rand, format === "wav" || format === "aiff" ? 6 : 1).map((
    cut,
  ) => ({
    name: `${format} cut at ${cut}/${valid.length}`,
    body: valid.slice(0, cut),
  }));
  const flips = [[1, 0, 64], [4, 0, 64], [1, 64, valid.length], [8, 0, valid.length], [64, 0, valid.length]];
  for (const [count, from, to] of flips) {
    cases.push({
      name: `${format} ${count} bytes flipped in [${from}, ${to})`,
      body: flipBytes(valid, rand, count!, from, to),
    });
  }
  for (const length of [64, 4096]) {
    cases.push({
      name: `${format} magic + ${length} random bytes`,
      body: magicOnNoise(MAGIC[format], length, rand),
      expect: [415, 422],
    });
  }
  return cases;
}

Deno.test("POST /v1/embed survives hostile audio of every format", serverTest, async (t) => {
  const service = await startHostileService();
  const url = `${service.url}/v1/embed?space=encoder`;
  const valid = await validAudio();
  const lying: Record<Format, HostileCase[]> = {
    wav: lyingWavs(),
    aiff: lyingAiffs(),
    mp3: lyingMp3s(valid.mp3),
    ogg: lyingOggs(valid.ogg),
    flac: lyingFlacs(valid.flac),
    m4a: lyingM4as(valid.m4a),
    webm: lyingWebms(valid.webm),
  };
  const tally: Record<number, number> = {};
  try {
    await t.step("valid files decode (and warm the decoders for the memory baseline)", async () => {
      const h = await sendAll(url, AUDIO_FORMATS.map((f) => ({ name: `${f} valid`, body: valid[f], expect: [200] })));
      assert.deepEqual(h, { 200: AUDIO_FORMATS.length });
    });
    const baseline = rss();
    for (const [i, format] of AUDIO_FORMATS.entries()) {
      await t.step(`${format}: truncated, flipped, magic on noise, lying headers`, async () => {
        const h = await sendAll(url, [...mutations(format, valid[format], 200 + i), ...lying[format]]);
        for (const [status, n] of Object.entries(h)) tally[+status] = (tally[+status] ?? 0) + n;
      });
    }
    await t.step("the service still serves, no worker was replaced, memory is back near baseline", async () => {
      const h = await sendAll(url, AUDIO_FORMATS.map((f) => ({ name: `${f} again`, body: valid[f], expect: [200] })));
      assert.deepEqual(h, { 200: AUDIO_FORMATS.length });
      assert.equal(service.pool.stats().restarts, 0);
      const now = rss();
      console.log(`audio cases: ${JSON.stringify(tally)}; RSS ${mib(baseline)} -> ${mib(now)} MiB`);
      // Generous: a failed ffmpeg run drops its core and the next run loads a fresh one (tens of
      // MB of WASM memory each) that the garbage collector frees at its own pace.
      assert.ok(now - baseline < 512 * 2 ** 20, `RSS grew by ${mib(now - baseline)} MiB`);
    });
  } finally {
    await service.close();
  }
});

function mib(bytes: number): number {
  return Math.round(bytes / 2 ** 20);
}
