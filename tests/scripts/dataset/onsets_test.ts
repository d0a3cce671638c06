import { deepStrictEqual as assertEquals, ok } from "node:assert/strict";
import { chooseClipStarts, cutClip, detectOnsets } from "../../../scripts/dataset/onsets.ts";

const RATE = 16000;

/** Decaying tone bursts starting at the given times (seconds). */
function bursts(starts: number[], seconds: number, decay = 8): Float32Array {
  const out = new Float32Array(Math.round(seconds * RATE));
  for (const start of starts) {
    for (let i = Math.round(start * RATE); i < out.length; i++) {
      const t = i / RATE - start;
      out[i]! += 0.5 * Math.exp(-decay * t) * Math.sin(2 * Math.PI * 440 * t);
    }
  }
  return out;
}

Deno.test("detectOnsets() finds note starts within 30 ms", () => {
  const cases: { starts: number[]; seconds: number }[] = [
    { starts: [0.5], seconds: 2 },
    { starts: [0.3, 1.1, 2.4], seconds: 3.5 },
    { starts: [0], seconds: 1 },
  ];
  for (const { starts, seconds } of cases) {
    const found = detectOnsets(bursts(starts, seconds));
    assertEquals(found.length, starts.length, `found ${found} for ${starts}`);
    found.forEach((t, i) => ok(Math.abs(t - starts[i]!) <= 0.03, `onset ${t} vs ${starts[i]}`));
  }
});

Deno.test("detectOnsets() finds nothing in silence", () => {
  assertEquals(detectOnsets(new Float32Array(RATE)), []);
  assertEquals(chooseClipStarts(new Float32Array(RATE)), []);
});

Deno.test("chooseClipStarts() adds whole-second steps for sustained sounds, up to maxClips", () => {
  const sustained = bursts([0.2], 4, 0.1);
  assertEquals(chooseClipStarts(sustained, { maxClips: 3 }).length, 3);
  const first = chooseClipStarts(sustained, { maxClips: 3 })[0]!;
  ok(Math.abs(first - 0.2) < 0.03);
  // A short hit that dies away gives a single clip.
  assertEquals(chooseClipStarts(bursts([0.2], 4, 30), { maxClips: 3 }).length, 1);
});

Deno.test("cutClip() returns exactly one second, padding past the end", () => {
  const audio = bursts([0], 1.5);
  const clip = cutClip(audio, 1.0);
  assertEquals(clip.length, RATE);
  assertEquals(clip[RATE - 1], 0);
  assertEquals(clip[0], audio[RATE]);
});
