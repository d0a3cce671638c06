import assert from "node:assert/strict";
import { encodeWav } from "../../../lib/media/encode_wav.ts";
import { post, serverTest, startTestService } from "./_service.ts";

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

const wav = () => encodeWav(new Float32Array(8000).map((_, i) => 0.2 * Math.sin(i / 5)), 16000);

Deno.test("API keys, rate limits, CORS and request ids", serverTest, async (t) => {
  const keysFile = await Deno.makeTempFile();
  await Deno.writeTextFile(
    keysFile,
    `# test keys\n${await sha256Hex("secret-one")}\n${await sha256Hex("secret-two")}\n`,
  );
  const service = await startTestService({
    apiKeysFile: keysFile,
    rateLimitPerSecond: 0.5,
    rateLimitBurst: 2,
    corsOrigins: ["https://app.example"],
  });
  const embed = `${service.url}/v1/embed?space=encoder`;
  try {
    const cases = [
      { name: "no key", headers: {} as Record<string, string>, status: 401 },
      { name: "wrong key", headers: { authorization: "Bearer nope" }, status: 401 },
      { name: "malformed header", headers: { authorization: "Basic abc" }, status: 401 },
    ];
    for (const c of cases) {
      await t.step(`${c.name} -> ${c.status}`, async () => {
        const res = await post(embed, wav(), c.headers);
        assert.equal(res.status, c.status);
        assert.equal(res.type, "application/problem+json");
        assert.match(res.headers.get("www-authenticate") ?? "", /Bearer/);
      });
    }
    await t.step("/healthz stays open", async () => {
      const res = await fetch(`${service.url}/healthz`);
      assert.equal(res.status, 200);
      await res.body?.cancel();
    });
    await t.step("a valid key passes; the burst is 2, then 429 with Retry-After", async () => {
      // The audio path loads on its first request (seconds on a busy machine, long enough to refill a token):
      // load it with the other key, whose bucket has a token left for the end of this step.
      assert.equal((await post(embed, wav(), { authorization: "Bearer secret-two" })).status, 200);
      const auth = { authorization: "Bearer secret-one" };
      assert.equal((await post(embed, wav(), auth)).status, 200);
      assert.equal((await post(embed, wav(), auth)).status, 200);
      const limited = await post(embed, wav(), auth);
      assert.equal(limited.status, 429);
      assert.equal(limited.type, "application/problem+json");
      assert.ok(Number(limited.headers.get("retry-after")) >= 1);
      // Another key has its own bucket.
      assert.equal((await post(embed, wav(), { authorization: "Bearer secret-two" })).status, 200);
    });
    await t.step("request ids are echoed, CORS follows the allowlist", async () => {
      const res = await fetch(`${service.url}/healthz`, {
        headers: { "x-request-id": "trace-123", origin: "https://app.example" },
      });
      await res.body?.cancel();
      assert.equal(res.headers.get("x-request-id"), "trace-123");
      assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example");
      const other = await fetch(`${service.url}/healthz`, { headers: { origin: "https://evil.example" } });
      await other.body?.cancel();
      assert.equal(other.headers.get("access-control-allow-origin"), null);
    });
  } finally {
    await service.close();
    await Deno.remove(keysFile);
  }
});
