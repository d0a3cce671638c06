/**
 * `deno task classify <file|dir>...`: classifies files with the same pipeline as the service, in this
 * process (no server), or on a running service with `--url`.
 *
 * Prints a table, or one JSON object per line with `--json`; shows progress with rate and ETA when a
 * folder is given; exits 1 naming the files it could not read or classify.
 *
 * @module
 */
import { describeError, expandInputs, localRunner, parseArgs, progress, remoteRunner } from "./_common.ts";

const USAGE = `usage: deno task classify [--json] [--top-k N] [--url http://host:port] [--api-key KEY] <file|dir>...`;

/**
 * Runs the command.
 *
 * @param args Command-line arguments.
 * @returns The exit code.
 */
export async function main(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(args, { flags: ["json", "help"], values: ["url", "top-k", "api-key"] });
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { options, positional } = parsed;
  if (options.help || positional.length === 0) {
    console.error(USAGE);
    return options.help ? 0 : 2;
  }
  const topK = options["top-k"] === undefined ? undefined : Number(options["top-k"]);
  if (topK !== undefined && !(Number.isInteger(topK) && topK > 0)) {
    console.error(`--top-k must be a positive integer, got ${options["top-k"]}`);
    return 2;
  }
  const { inputs, unreadable } = await expandInputs(positional);
  const runner = typeof options.url === "string"
    ? remoteRunner(
      options.url,
      typeof options["api-key"] === "string" ? { authorization: `Bearer ${options["api-key"]}` } : {},
    )
    : await localRunner();
  const bar = inputs.some((i) => i.fromFolder) ? progress(inputs.length) : undefined;
  const failed: string[] = [...unreadable];
  const rows: string[][] = [];
  /** Model versions that answered (one, unless a service was redeployed mid-run). */
  const models = new Set<string>();
  for (const path of unreadable) {
    emit(options.json === true, rows, path, undefined, describeError(new Deno.errors.NotFound()));
  }
  for (const input of inputs) {
    try {
      const bytes = await Deno.readFile(input.path);
      const result = await runner.classify(bytes, topK);
      models.add(result.model);
      emit(options.json === true, rows, input.path, result);
    } catch (error) {
      failed.push(input.path);
      emit(options.json === true, rows, input.path, undefined, describeError(error));
    }
    bar?.tick();
  }
  bar?.done();
  if (!options.json) printTable(rows);
  // The table has no model column (JSON lines carry `model`): say once which model answered.
  if (!options.json && models.size > 0) console.error(`Answered by model ${[...models].join(", ")}`);
  if (failed.length > 0) {
    console.error(`Could not classify ${failed.length} of ${inputs.length + unreadable.length}: ${failed.join(", ")}`);
    return 1;
  }
  return 0;
}

function emit(
  json: boolean,
  rows: string[][],
  path: string,
  result?: { modality: string; label: string | null; score: number | null; scores: { label: string; score: number }[] },
  error?: { status: number; detail: string },
): void {
  if (json) {
    console.log(JSON.stringify(result ? { file: path, ...result } : { file: path, error }));
    return;
  }
  if (result) {
    const runnersUp = result.scores.slice(1, 3).map((s) => `${s.label} ${s.score.toFixed(2)}`).join(", ");
    rows.push([path, result.modality, result.label ?? "no instrument", result.score?.toFixed(2) ?? "-", runnersUp]);
  } else rows.push([path, "-", "error", "", error!.detail]);
}

function printTable(rows: string[][]): void {
  const header = ["file", "modality", "label", "score", "next"];
  const all = [header, ...rows];
  const widths = header.map((_, c) => Math.max(...all.map((r) => (r[c] ?? "").length)));
  for (const row of all) console.log(row.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd());
}

if (import.meta.main) Deno.exit(await main(Deno.args));
