/**
 * What storing joint embeddings compactly costs search: every corpus embedding (deployed joint space,
 * `corpus_embeddings.ts`) is a query against all the others, stored as float32, float16 and int8 + scale;
 * reports top-10 overlap with float32 search, the largest score error, and cross-modal precision@10 (same
 * label among the 10 nearest items of the other modality) for each. Writes reports/collections/compression.json.
 *
 * Usage: `deno run -A scripts/collections/compression.ts [--cache .cache/collections] [--out reports/collections]`
 *
 * @module
 */
import { parseArgs } from "node:util";
import { join } from "node:path";
import { VectorIndex } from "../../lib/collections/vector_index.ts";
import { decodeFloat16, decodeInt8, encodeFloat16, encodeInt8, normalize } from "../../lib/collections/vector_codec.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    cache: { type: "string", default: ".cache/collections" },
    out: { type: "string", default: "reports/collections" },
  },
});
const { dirs } = JSON.parse(await Deno.readTextFile(join(values.cache!, "items.json")));
const rows: { id: string; label: string; modality: "audio" | "image"; v: Float32Array }[] = [];
for (const modality of ["audio", "image"] as const) {
  const meta = (await Deno.readTextFile(join(dirs[modality], "retrieval.jsonl"))).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  const z = new Float32Array((await Deno.readFile(join(values.cache!, `joint-${modality}.f32`))).buffer);
  meta.forEach((m: { id: string; label: string }, i: number) =>
    rows.push({ id: m.id, label: m.label, modality, v: normalize(z.slice(i * 128, (i + 1) * 128)) })
  );
}
const codecs = {
  float32: (v: Float32Array) => v,
  float16: (v: Float32Array) => decodeFloat16(encodeFloat16(v)),
  int8: (v: Float32Array) => decodeInt8(encodeInt8(v)),
};
const bytes = { float32: 512, float16: 256, int8: 132 };
const indexes = Object.fromEntries(
  Object.entries(codecs).map(([name, codec]) => {
    const index = new VectorIndex(128, rows.length);
    for (const r of rows) index.upsert(r.id, codec(r.v), { modality: r.modality, label: r.label, model: "m" });
    return [name, index];
  }),
) as Record<keyof typeof codecs, VectorIndex>;
const labelOf = new Map(rows.map((r) => [r.id, r.label]));
const report: Record<string, unknown> = { items: rows.length, queries: rows.length, k: 10 };
const reference = rows.map((r) => indexes.float32.search(r.v, 11).filter((h) => h.id !== r.id).slice(0, 10));
for (const name of Object.keys(codecs) as (keyof typeof codecs)[]) {
  let overlap = 0, maxError = 0, precision = 0;
  rows.forEach((r, i) => {
    const hits = indexes[name].search(r.v, 11).filter((h) => h.id !== r.id).slice(0, 10);
    const ref = new Set(reference[i]!.map((h) => h.id));
    overlap += hits.filter((h) => ref.has(h.id)).length / 10;
    hits.forEach((h, j) => (maxError = Math.max(maxError, Math.abs(h.score - reference[i]![j]!.score))));
    const other = r.modality === "audio" ? "image" : "audio";
    precision += indexes[name].search(r.v, 10, other).filter((h) => labelOf.get(h.id) === r.label).length / 10;
  });
  report[name] = {
    bytesPerVector: bytes[name],
    top10OverlapWithFloat32: Math.round((overlap / rows.length) * 1e4) / 1e4,
    maxRankScoreError: Math.round(maxError * 1e5) / 1e5,
    crossModalPrecisionAt10: Math.round((precision / rows.length) * 1e4) / 1e4,
  };
  console.log(name, report[name]);
}
await Deno.mkdir(values.out!, { recursive: true });
await Deno.writeTextFile(join(values.out!, "compression.json"), JSON.stringify(report, null, 2) + "\n");
