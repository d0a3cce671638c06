import assert from "node:assert/strict";
import { serverTest } from "../http/_service.ts";
import { send, startHostileService } from "./_hostile.ts";

const dir = new URL("../../fixtures/regressions/", import.meta.url);
const files = [...Deno.readDirSync(dir)].filter((e) => e.isFile && !e.name.endsWith(".md") && !e.name.endsWith(".json"))
  .map((e) => e.name).sort();

Deno.test({
  name: "POST /v1/embed answers every past fuzz finding without a 5xx",
  ...serverTest,
  ignore: files.length === 0,
  async fn() {
    const service = await startHostileService();
    try {
      for (const name of files) {
        await send(`${service.url}/v1/embed?space=encoder`, { name, body: await Deno.readFile(new URL(name, dir)) });
      }
      assert.equal(service.pool.stats().restarts, 0);
    } finally {
      await service.close();
    }
  },
});
