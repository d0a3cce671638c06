import assert from "node:assert/strict";
import { generatedAudio } from "../../../scripts/data/generated_negatives.ts";
import { decodeWav } from "../../../lib/media/wav.ts";
import { clickRatio, mainsHumRatio, signalLevelDbfs } from "../../../lib/classify/presence_signal.ts";

Deno.test("generatedAudio() gives unique ids and every round-2 category", () => {
  const items = generatedAudio();
  assert.equal(new Set(items.map((i) => i.id)).size, items.length);
  const count = (category: string) => items.filter((i) => i.category === category).length;
  assert.deepEqual(
    ["hum", "clicks", "speech_noise", "silence"].map(count),
    [22, 18, 12, 7],
  );
  // Groups never mix categories, so a split keeps a generator on one side.
  const byGroup = new Map<string, Set<string>>();
  for (const i of items) byGroup.set(i.group, (byGroup.get(i.group) ?? new Set()).add(i.category));
  for (const [group, categories] of byGroup) assert.equal(categories.size, 1, group);
});

Deno.test("generatedAudio() hum sits on the mains comb, clicks are isolated clicks, neither is the other", async () => {
  const items = generatedAudio();
  for (const item of items.filter((i) => ["hum", "clicks", "speech_noise"].includes(i.category))) {
    const samples = decodeWav(await item.bytes()).channels[0]!;
    const ratio = mainsHumRatio(samples);
    if (item.category === "hum") assert.ok(ratio > 0.9, `${item.id}: ${ratio}`);
    else assert.ok(ratio < 0.2, `${item.id}: ${ratio}`);
    const clicks = clickRatio(samples);
    // 50 random clicks a second come within 30 ms of each other too often to count as isolated.
    if (item.category === "clicks" && !item.id.includes("/clicks50/")) {
      assert.ok(clicks >= 0.2, `${item.id}: ${clicks}`);
    } else if (item.category !== "clicks") assert.equal(clicks, 0, item.id);
    // Every one is audible: the level rule ("silence") must not be what decides them.
    assert.ok(signalLevelDbfs(samples) > -60, `${item.id}: ${signalLevelDbfs(samples)} dBFS`);
  }
});
