import assert from "node:assert/strict";
import { join } from "node:path";
import { resolveFile } from "../../../lib/weights/resolve_file.ts";
import { loadEncoderCatalog } from "../../../lib/weights/encoder_cards.ts";
import { WEIGHTS_DIR, weightsFile } from "../encoders/import/_reference.ts";

const FILE = "imagenet_labels.txt";
const { labels } = await loadEncoderCatalog();
const SPEC = { file: FILE, ...labels[FILE]! };

async function tempDirs(): Promise<{ root: string; cacheDir: string; weightsDir: string }> {
  const root = await Deno.makeTempDir({ prefix: "amodal_weights_" });
  const cacheDir = join(root, "cache");
  const weightsDir = join(root, "weights");
  await Deno.mkdir(join(cacheDir, "weights"), { recursive: true });
  await Deno.mkdir(weightsDir, { recursive: true });
  return { root, cacheDir, weightsDir };
}

Deno.test("resolveFile() reads the local weights dir and verifies the hash", async () => {
  const { root, cacheDir } = await tempDirs();
  const got = await resolveFile(SPEC, { cacheDir, weightsDir: WEIGHTS_DIR, fetch: null });
  assert.equal(got.source, "local");
  assert.equal(got.path, join(WEIGHTS_DIR, FILE));
  assert.equal(got.bytes.length, SPEC.bytes);
  await Deno.remove(root, { recursive: true });
});

Deno.test("resolveFile() rejects a file with the wrong sha256 and says why for every source", async () => {
  const { root, cacheDir, weightsDir } = await tempDirs();
  await Deno.writeTextFile(join(weightsDir, FILE), "background\nnot the pinned labels\n");
  const lines: string[] = [];
  await assert.rejects(
    () => resolveFile(SPEC, { cacheDir, weightsDir, fetch: null, log: (l) => lines.push(l) }),
    (error: Error) => {
      assert.match(error.message, new RegExp(`Cannot find ${FILE} with sha256 ${SPEC.sha256}`));
      assert.match(error.message, /cache .*: not found/);
      assert.match(error.message, /local .*: sha256 mismatch \(got [0-9a-f]{64}, expected/);
      assert.match(error.message, /downloading disabled/);
      return true;
    },
  );
  assert.ok(lines.some((l) => l.includes("sha256 mismatch")));
  await Deno.remove(root, { recursive: true });
});

Deno.test("resolveFile() prefers a verified cache copy and skips a corrupt one", async () => {
  const { root, cacheDir } = await tempDirs();
  await Deno.writeFile(join(cacheDir, "weights", FILE), weightsFile(FILE));
  assert.equal((await resolveFile(SPEC, { cacheDir, weightsDir: WEIGHTS_DIR, fetch: null })).source, "cache");
  await Deno.writeTextFile(join(cacheDir, "weights", FILE), "truncated");
  assert.equal((await resolveFile(SPEC, { cacheDir, weightsDir: WEIGHTS_DIR, fetch: null })).source, "local");
  await Deno.remove(root, { recursive: true });
});

Deno.test("resolveFile() downloads from the pinned URL into the cache, then reuses it", async () => {
  const { root, cacheDir, weightsDir } = await tempDirs();
  const requested: string[] = [];
  // Stands in for GitHub (no network in tests), serving the real pinned bytes.
  const fetchPinned = (url: string | URL | Request) => {
    requested.push(String(url));
    return Promise.resolve(new Response(weightsFile(FILE) as Uint8Array<ArrayBuffer>));
  };
  const first = await resolveFile(SPEC, { cacheDir, weightsDir, fetch: fetchPinned as typeof fetch });
  assert.equal(first.source, "url");
  assert.deepEqual(requested, [SPEC.url]);
  assert.equal((await Deno.stat(join(cacheDir, "weights", FILE))).size, SPEC.bytes);
  const second = await resolveFile(SPEC, { cacheDir, weightsDir, fetch: fetchPinned as typeof fetch });
  assert.equal(second.source, "cache");
  assert.equal(requested.length, 1);
  const notFound = () => Promise.resolve(new Response("nope", { status: 404 }));
  await assert.rejects(
    () => resolveFile(SPEC, { cacheDir: join(root, "empty"), weightsDir, fetch: notFound as typeof fetch }),
    /HTTP 404/,
  );
  await Deno.remove(root, { recursive: true });
});
