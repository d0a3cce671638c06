/**
 * readServiceInfo() quotes the report's headline metrics (models/metrics.json) under
 * `joint.report`, which GET /v1/models returns.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Config } from "../../lib/config.ts";
import { readServiceInfo } from "../../lib/service_info.ts";

const cases = [
  { name: "with models/metrics.json", metrics: { format: "amodal-report-metrics/1", encoders: "yamnet+mobilenet_v2" } },
  { name: "without models/metrics.json", metrics: null },
];

for (const c of cases) {
  Deno.test(`readServiceInfo() ${c.name}`, async () => {
    const dir = await Deno.makeTempDir({ prefix: "amodal-models-" });
    try {
      await Deno.writeTextFile(join(dir, "manifest.json"), JSON.stringify({ version: "v1", labels: ["a", "b"] }));
      if (c.metrics) await Deno.writeTextFile(join(dir, "metrics.json"), JSON.stringify(c.metrics));
      const info = await readServiceInfo({ modelsDir: dir } as Config, []);
      assert.equal(info.joint?.version, "v1");
      assert.deepEqual(info.labels, ["a", "b"]);
      assert.deepEqual(info.joint?.report, c.metrics ?? undefined);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
}

Deno.test("readServiceInfo() without a manifest has no joint section, metrics or not", async () => {
  const dir = await Deno.makeTempDir({ prefix: "amodal-models-" });
  try {
    await Deno.writeTextFile(join(dir, "metrics.json"), "{}");
    const info = await readServiceInfo({ modelsDir: dir } as Config, []);
    assert.equal(info.joint, undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
