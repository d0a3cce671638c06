import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../../lib/config.ts";
import { serverTest, startTestService } from "../../integration/http/_service.ts";
import { PYTHON, pythonHas } from "../report/_python.ts";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const corpus = join(loadConfig().sharedDir, "corpus");
const firstFiles = (dir: string, n: number) =>
  Array.from(Deno.readDirSync(join(corpus, dir))).map((e) => join(corpus, dir, e.name)).sort().slice(0, n);

/** A folder with 2 violin photos, 2 violin recordings and one JSON file. */
async function folder(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: "amodal-cli-" });
  for (const path of [...firstFiles("images/gpiosenka/violin", 2), ...firstFiles("audio/iowa_pitchfinder/violin", 2)]) {
    await Deno.copyFile(path, join(dir, path.split("/").at(-1)!));
  }
  await Deno.writeTextFile(join(dir, "notes.json"), '{"not": "a sound"}');
  return dir;
}

async function cli(script: string, args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-net",
      "--allow-sys=cpus",
      script,
      ...args,
    ],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout), stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("deno task classify: a folder in-process as JSON lines, exit 1 naming what it could not read", async () => {
  const dir = await folder();
  try {
    const missing = join(dir, "missing.wav");
    const run = await cli("scripts/cli/classify.ts", ["--json", "--top-k", "2", dir, missing]);
    assert.equal(run.code, 1, run.stderr);
    const lines = run.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(lines.length, 6);
    const ok = lines.filter((l) => l.label !== undefined);
    assert.equal(ok.length, 4);
    assert.deepEqual(ok.map((l) => l.modality).sort(), ["audio", "audio", "image", "image"]);
    assert.ok(ok.filter((l) => l.label === "violin").length >= 3, JSON.stringify(ok.map((l) => l.label)));
    assert.ok(ok.every((l) => l.scores.length === 2));
    assert.equal(lines.find((l) => l.file.endsWith("notes.json")).error.status, 415);
    assert.match(run.stderr, /files\/s ETA/, "progress with rate and ETA on a folder");
    assert.match(run.stderr, /Could not classify 2 of 6: .*missing\.wav.*notes\.json/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task embed: .npy that NumPy reads, and --url on a running service agrees", serverTest, async () => {
  const dir = await folder();
  await Deno.remove(join(dir, "notes.json"));
  const service = await startTestService();
  try {
    const npyPath = join(await Deno.makeTempDir({ prefix: "amodal-npy-" }), "vectors.npy");
    const local = await cli("scripts/cli/embed.ts", ["--out", npyPath, dir]);
    assert.equal(local.code, 0, local.stderr);
    const files = (await Deno.readTextFile(npyPath.replace(/npy$/, "files.txt"))).trim().split("\n");
    assert.equal(files.length, 4);
    const remote = await cli("scripts/cli/embed.ts", ["--url", service.url, dir]);
    assert.equal(remote.code, 0, remote.stderr);
    const lines = remote.stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.file), files);
    // The table names no model per row: the CLI says once which model answered.
    const table = await cli("scripts/cli/classify.ts", ["--url", service.url, dir]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^file\s+modality\s+label\s+score\s+next\n/);
    assert.equal(table.stdout.trim().split("\n").length, 5);
    assert.match(table.stderr, /Answered by model \S+/);
    if (await pythonHas("numpy")) {
      const out = await new Deno.Command(PYTHON, {
        args: [
          "-c",
          `import numpy, json; m = numpy.load(${
            JSON.stringify(npyPath)
          }); print(json.dumps([list(m.shape), str(m.dtype), m.tolist()]))`,
        ],
        stdout: "piped",
      }).output();
      const [shape, dtype, matrix] = JSON.parse(new TextDecoder().decode(out.stdout));
      assert.deepEqual(shape, [4, 128]);
      assert.equal(dtype, "float32");
      // In-process and service embeddings of the same files: the same float32 vectors up to thread-order rounding.
      for (let i = 0; i < 4; i++) {
        const a = matrix[i] as number[];
        const b = lines[i].embedding as number[];
        const worst = Math.max(...a.map((x, j) => Math.abs(x - b[j]!)));
        assert.ok(worst < 1e-4, `${files[i]}: max difference ${worst}`);
      }
    } else console.warn("numpy missing: .npy not read back");
  } finally {
    await service.close();
    await Deno.remove(dir, { recursive: true });
  }
});
