import assert from "node:assert/strict";
import { REPO_ROOT } from "../../../lib/config.ts";

/** Runs a deno task, returning its exit code and the JSON summary it prints last on stdout. */
async function task(
  name: string,
  args: string[],
): Promise<{ code: number; summary: Record<string, unknown>; log: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["task", "-q", name, ...args],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stdout = new TextDecoder().decode(out.stdout).trim();
  const log = new TextDecoder().decode(out.stderr);
  let summary: Record<string, unknown> = {};
  try {
    summary = JSON.parse(stdout.split("\n").at(-1) ?? "");
  } catch { /* asserted by the caller */ }
  return { code: out.code, summary, log };
}

Deno.test("deno task fuzz (shortened) finds no 5xx, hang or crash", async () => {
  const { code, summary, log } = await task("fuzz", [
    "--count",
    "40",
    "--seconds",
    "60",
    "--seed",
    "11",
    "--out",
    ".cache/fuzz/test-findings",
  ]);
  assert.equal(code, 0, log.slice(-2000));
  assert.equal(summary.findings, 0);
  assert.ok((summary.inputs as number) > 0, "no input was tried");
  const statuses = Object.keys(summary.statuses as object);
  assert.ok(statuses.every((s) => s === "200" || /^4\d\d$/.test(s)), `statuses ${statuses}`);
});

Deno.test("deno task fuzz --target batch (shortened) finds no 5xx, item 5xx, hang or crash", async () => {
  const { code, summary, log } = await task("fuzz", [
    "--target",
    "batch",
    "--count",
    "30",
    "--seconds",
    "60",
    "--seed",
    "11",
    "--out",
    ".cache/fuzz/test-findings",
  ]);
  assert.equal(code, 0, log.slice(-2000));
  assert.equal(summary.findings, 0);
  assert.equal(summary.target, "batch");
  const items = Object.keys(summary.itemStatuses as object);
  assert.ok(items.length > 0, "no batch item was answered");
  assert.ok(items.every((s) => s === "200" || /^4\d\d$/.test(s)), `item statuses ${items}`);
});

Deno.test("deno task soak (shortened) has no errors other than 503", async () => {
  const { code, summary, log } = await task("soak", ["--requests", "120", "--concurrency", "8", "--seconds", "300"]);
  assert.equal(code, 0, log.slice(-2000));
  assert.equal(summary.errors, 0);
  assert.ok((summary.requests as number) > 0);
  const statuses = Object.keys(summary.statuses as object);
  assert.ok(statuses.every((s) => s === "200" || s === "503"), `statuses ${statuses}`);
  const latency = summary.latencyMs as Record<string, number>;
  assert.ok(latency.p50! <= latency.p99!, "percentiles are ordered");
  assert.ok(typeof summary.rssGrowth === "number", "the server's RSS was measured");
});
