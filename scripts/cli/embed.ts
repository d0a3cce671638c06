/**
 * `deno task embed <file|dir>...`: embeds files with the same pipeline as the service (in this process, or
 * on a running service with `--url`) and writes the vectors as JSON lines (stdout or `--out x.jsonl`) or as a
 * float32 `.npy` matrix (`--out x.npy`, rows in input order, with the file names in `x.files.txt`).
 *
 * @module
 */
import { describeError, expandInputs, localRunner, parseArgs, progress, remoteRunner } from "./_common.ts";
import { shortestFloat32 } from "../../lib/http/float32.ts";

const USAGE = "usage: deno task embed [--space joint|encoder] [--out vectors.jsonl|vectors.npy] " +
  "[--url http://host:port] [--api-key KEY] <file|dir>...";

/**
 * Runs the command.
 *
 * @param args Command-line arguments.
 * @returns The exit code.
 */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(args, { flags: ["help"], values: ["url", "space", "out", "api-key"] });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { options, positional } = parsed;
  if (options.help || positional.length === 0) {
    console.error(USAGE);
    return options.help ? 0 : 2;
  }
  const space = options.space ?? "joint";
  if (space !== "joint" && space !== "encoder") {
    console.error(`--space must be "joint" or "encoder", got ${space}`);
    return 2;
  }
  const out = typeof options.out === "string" ? options.out : undefined;
  const { inputs, unreadable } = await expandInputs(positional);
  const runner = typeof options.url === "string"
    ? remoteRunner(
      options.url,
      typeof options["api-key"] === "string" ? { authorization: `Bearer ${options["api-key"]}` } : {},
    )
    : await localRunner();
  const bar = inputs.some((i) => i.fromFolder) ? progress(inputs.length) : undefined;
  const failed = [...unreadable];
  const rows: { file: string; vector: number[]; modality: string; encoder: string }[] = [];
  for (const input of inputs) {
    try {
      const result = await runner.embed(await Deno.readFile(input.path), space);
      rows.push({ file: input.path, vector: result.embedding, modality: result.modality, encoder: result.encoder });
    } catch (error) {
      failed.push(input.path);
      console.error(`${input.path}: ${describeError(error).detail}`);
    }
    bar?.tick();
  }
  bar?.done();
  if (out?.endsWith(".npy")) {
    const dims = new Set(rows.map((r) => r.vector.length));
    if (dims.size > 1) {
      // Encoder embeddings of sounds and pictures differ in size: one matrix cannot hold both.
      console.error(`Cannot write one .npy of vectors of ${[...dims].join(" and ")} dimensions; use .jsonl`);
      return 1;
    }
    await Deno.writeFile(out, npy(rows.map((r) => r.vector), [...dims][0] ?? 0));
    await Deno.writeTextFile(out.replace(/\.npy$/, ".files.txt"), rows.map((r) => r.file).join("\n") + "\n");
  } else {
    const lines = rows.map((r) =>
      JSON.stringify({
        file: r.file,
        modality: r.modality,
        encoder: r.encoder,
        space,
        embedding: r.vector.map(shortestFloat32),
      })
    ).join("\n") + (rows.length ? "\n" : "");
    if (out) {
      await Deno.writeTextFile(out, lines);
    } else await Deno.stdout.write(new TextEncoder().encode(lines));
  }
  if (failed.length > 0) {
    console.error(`Could not embed ${failed.length} of ${inputs.length + unreadable.length}: ${failed.join(", ")}`);
    return 1;
  }
  return 0;
}

/**
 * A NumPy `.npy` (format 1.0) file holding a little-endian float32 matrix.
 *
 * @param rows The vectors, all `dim` long.
 * @param dim Columns.
 * @returns The file's bytes.
 */
export function npy(rows: number[][], dim: number): Uint8Array {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${rows.length}, ${dim}), }`;
  // Magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64, ending in \n.
  const unpadded = 10 + header.length + 1;
  header += " ".repeat((64 - (unpadded % 64)) % 64) + "\n";
  const bytes = new Uint8Array(10 + header.length + rows.length * dim * 4);
  bytes.set([0x93, ...new TextEncoder().encode("NUMPY"), 1, 0]);
  const view = new DataView(bytes.buffer);
  view.setUint16(8, header.length, true);
  bytes.set(new TextEncoder().encode(header), 10);
  let at = 10 + header.length;
  for (const row of rows) {
    for (const value of row) {
      view.setFloat32(at, value, true);
      at += 4;
    }
  }
  return bytes;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
