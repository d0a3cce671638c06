/**
 * `deno task bench:search`: exact cosine search over one collection's in-memory matrix, and rebuilding that
 * matrix from Deno KV, at growing sizes.
 *
 * Per size (default 10k, 50k, 100k, 200k rows of 128-d vectors, clustered like joint embeddings: 18 label
 * directions plus noise): p50/p99 of a top-10 search (all rows, and with a modality filter), RSS added per
 * 10k rows, and, up to `--kv-max` rows, the time to write the rows to a KV file and to rebuild the index from it
 * (what a restart or a cold instance pays). Prints a table and writes bench/results/search-<time>.json.
 *
 * Flags: `--sizes 10000,50000`, `--queries 200`, `--kv-max 100000`, `--out bench/results`.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { VectorIndex } from "../../lib/collections/vector_index.ts";
import { CollectionStore, type StoredItem } from "../../lib/collections/store.ts";
import { encodeInt8 } from "../../lib/collections/vector_codec.ts";
import { quantile } from "./stats.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    sizes: { type: "string", default: "10000,50000,100000,200000" },
    queries: { type: "string", default: "200" },
    "kv-max": { type: "string", default: "100000" },
    out: { type: "string", default: "bench/results" },
  },
});
const DIM = 128;
let seed = 42;
const rand = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32) - 0.5;
const centres = Array.from({ length: 18 }, () => Float32Array.from({ length: DIM }, rand));
const vector = (i: number) => {
  const c = centres[i % 18]!;
  return Float32Array.from({ length: DIM }, (_, d) => c[d]! + 0.6 * rand());
};
const gc = (globalThis as { gc?: () => void }).gc;
const rss = () => {
  gc?.();
  return Deno.memoryUsage().rss;
};

const results = [];
for (const size of values.sizes!.split(",").map(Number)) {
  const before = rss();
  const index = new VectorIndex(DIM, 64);
  const ids: string[] = [];
  for (let i = 0; i < size; i++) {
    const id = `item-${i.toString().padStart(7, "0")}`;
    ids.push(id);
    index.upsert(id, vector(i), { modality: i % 2 ? "audio" : "image", label: null, model: "m" });
  }
  const rssPer10k = ((rss() - before) / size) * 10_000;
  const time = (modality?: "audio" | "image") => {
    const ms: number[] = [];
    for (let q = 0; q < Number(values.queries); q++) {
      const query = vector(q * 7 + 3);
      const t = performance.now();
      index.search(query, 10, modality);
      ms.push(performance.now() - t);
    }
    ms.sort((a, b) => a - b);
    return { p50: round(quantile(ms, 0.5)), p99: round(quantile(ms, 0.99)) };
  };
  time(); // warm the JIT
  const all = time(), images = time("image");
  let kv: { writeSeconds: number; rebuildSeconds: number; fileMB: number } | undefined;
  if (size <= Number(values["kv-max"])) kv = await kvRound(size);
  const row = {
    size,
    searchMs: all,
    imageOnlyMs: images,
    rssMBPer10k: round(rssPer10k / 1e6),
    matrixMB: round(index.bytes / 1e6),
    kv,
  };
  results.push(row);
  console.log(JSON.stringify(row));
}

console.log(
  "\n| rows | search p50 / p99 ms | modality filter p50 / p99 ms | RSS MB per 10k | KV write s | rebuild from KV s |",
);
console.log("| ---: | ---: | ---: | ---: | ---: | ---: |");
for (const r of results) {
  console.log(
    `| ${r.size} | ${r.searchMs.p50} / ${r.searchMs.p99} | ${r.imageOnlyMs.p50} / ${r.imageOnlyMs.p99} | ${r.rssMBPer10k} | ` +
      `${r.kv?.writeSeconds ?? "-"} | ${r.kv?.rebuildSeconds ?? "-"} |`,
  );
}
await Deno.mkdir(values.out!, { recursive: true });
const file = join(values.out!, `search-${new Date().toISOString().replace(/[:.]/g, "-")}.json`);
await Deno.writeTextFile(file, JSON.stringify({ cpus: navigator.hardwareConcurrency, results }, null, 2) + "\n");
console.log(`\nwrote ${file}`);

/** Writes `size` items as the store lays them out (500 per atomic batch), then times a cold index build. */
async function kvRound(size: number) {
  const path = await Deno.makeTempFile({ suffix: ".sqlite3" });
  try {
    const kv = await Deno.openKv(path);
    const gen = "bench";
    const t0 = performance.now();
    for (let i = 0; i < size; i += 500) {
      const op = kv.atomic();
      for (let j = i; j < Math.min(size, i + 500); j++) {
        const item: StoredItem = {
          id: `item-${j.toString().padStart(7, "0")}`,
          modality: j % 2 ? "audio" : "image",
          prediction: "violin",
          predictionScore: 0.9,
          sha256: j.toString(16).padStart(64, "0"),
          model: "m",
          metadata: { file: `photos/${j}.jpg` },
          vector: encodeInt8(vector(j)),
          storedAt: new Date().toISOString(),
        };
        op.set(["item", "_", "c", gen, item.id], item);
      }
      await op.commit();
    }
    await kv.set(["collection", "_", "c"], { gen, count: size, version: 1, dim: DIM, createdAt: "" });
    const writeSeconds = (performance.now() - t0) / 1000;
    kv.close();
    const store = new CollectionStore({ open: () => Deno.openKv(path), maxItems: size });
    const t1 = performance.now();
    const held = await store.index("_", "c");
    const rebuildSeconds = (performance.now() - t1) / 1000;
    if (held?.index.size !== size) throw new Error(`rebuilt ${held?.index.size} of ${size} rows`);
    await store.close();
    return {
      writeSeconds: round(writeSeconds),
      rebuildSeconds: round(rebuildSeconds),
      fileMB: round((await Deno.stat(path)).size / 1e6),
    };
  } finally {
    await Deno.remove(path);
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
