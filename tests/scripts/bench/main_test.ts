import assert from "node:assert/strict";
import { join } from "node:path";
import { REPO_ROOT } from "../../../lib/config.ts";
import type { BenchResults } from "../../../scripts/bench/main.ts";

// The whole benchmark in its tiny mode (few iterations): keeps the script working. No timed assertions.
Deno.test("deno task bench --quick writes results JSON and the report block", async () => {
  const dir = await Deno.makeTempDir({ prefix: "amodal-bench-test-" });
  try {
    const doc = join(dir, "performance.md");
    await Deno.writeTextFile(
      doc,
      "# Performance\n\nHand-written text.\n\n<!-- bench:begin -->\nold\n<!-- bench:end -->\n\nAfter.\n",
    );
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--lock=deno.lock", "-A", "scripts/bench/main.ts", "--quick", "--out", dir, "--doc", doc],
      cwd: REPO_ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(code, 0, new TextDecoder().decode(stderr).slice(-3000));
    const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => n.endsWith(".json"));
    assert.equal(files.length, 1);
    const r = JSON.parse(await Deno.readTextFile(join(dir, files[0]!))) as BenchResults;
    const names = ["jpeg_224x224", "jpeg_1280x960", "jpeg_4032x3024", "png_1280x960", "webp_1280x960"]
      .concat(["wav_1s", "wav_10s", "wav_30s", "mp3_10s"]);
    assert.deepEqual(r.inputs.map((i) => i.name), names);
    for (const name of names) {
      const l = r.latency[name]!;
      assert.equal(l.errors, 0, `${name}: ${l.firstError}`);
      assert.ok(l.total.n >= 1 && l.total.p50 > 0, name);
      assert.ok(l.stagesP50.decode! > 0 && l.stagesP50.encoder! > 0, `${name} stages ${JSON.stringify(l.stagesP50)}`);
    }
    assert.ok(r.latency["wav_1s"]!.stagesP50.features! > 0);
    assert.ok(r.coldStart.cachedMs.length >= 1 && r.coldStart.cachedMedianMs > 0);
    assert.ok(r.coldStart.emptyCacheMs! > 0, r.coldStart.emptyCacheError ?? "no empty-cache cold start");
    assert.equal(r.load.mixed.length, 2);
    // The load generator's own ceiling (empty Hono route) is measured and error-free.
    assert.ok(r.load.ceiling && r.load.ceiling.requestsPerSecond > 0, JSON.stringify(r.load.ceiling));
    assert.equal(r.load.ceiling.errors, 0);
    for (const x of [...r.load.mixed, ...Object.values(r.load.images)]) assert.equal(x.errors, 0);
    assert.ok(r.peakRssMb > 0);
    assert.deepEqual(r.limit.map((l) => [l.encoder, l.batch > 0]), [["mobilenet_v2", true], ["yamnet", true], [
      "yamnet",
      true,
    ]]);
    for (const l of r.limit) {
      assert.ok("medianMs" in l.web, JSON.stringify(l.web));
      assert.ok("medianMs" in l.node, JSON.stringify(l.node));
      // Same graph, same input: the two runtimes differ only by float summation order.
      assert.ok(l.maxAbsDiff! < 1e-4 * Math.max(1, l.maxAbsValue!), `${l.encoder}: ${l.maxAbsDiff}`);
    }
    assert.ok(r.targets.length >= 10);
    const text = await Deno.readTextFile(doc);
    assert.match(text, /^# Performance\n\nHand-written text\./);
    assert.match(text, /\nAfter\.\n$/);
    assert.doesNotMatch(text, /\nold\n/);
    assert.match(text, /\| p50 JPEG 224x224 +\| <= 20 ms +\|/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
