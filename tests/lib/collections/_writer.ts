/**
 * A separate process that writes items to a collection as fast as it can, printing `wrote <id>` after
 * each commit, so tests can run two at once or kill one between writes.
 *
 * Usage: `deno run -A _writer.ts <kv path> <collection> <prefix> <count>`
 *
 * @module
 */
import { CollectionStore } from "../../../lib/collections/store.ts";

const [path, name, prefix, count] = Deno.args as [string, string, string, string];
const store = new CollectionStore({ open: () => Deno.openKv(path), maxItems: 1_000_000 });
const out = new TextEncoder();
for (let i = 0; i < Number(count); i++) {
  const id = `${prefix}-${i}`;
  const vector = Array.from({ length: 128 }, (_, d) => Math.sin(i * 7 + d));
  await store.put("_", name, {
    id,
    modality: i % 2 ? "audio" : "image",
    prediction: null,
    predictionScore: null,
    sha256: i.toString(16).padStart(64, "0"),
    model: "m",
    metadata: { i, note: "x".repeat(1000) },
    vector,
  });
  Deno.stdout.writeSync(out.encode(`wrote ${id}\n`));
}
await store.close();
