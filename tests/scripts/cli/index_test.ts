import assert from "node:assert/strict";
import { join } from "node:path";
import { fakeApp } from "../../routes/_fake_runner.ts";
import { itemId, main } from "../../../scripts/cli/index.ts";

Deno.test("itemId() maps relative paths into the id alphabet", () => {
  const cases: [string, string][] = [
    ["violin/a b.jpg", "violin:a_b.jpg"],
    [".hidden/x.wav", "f.hidden:x.wav"],
    ["é.png", "f_.png"],
  ];
  for (const [rel, id] of cases) assert.equal(itemId(rel), id);
  assert.equal(itemId("d/".repeat(150) + "x").length, 200);
  assert.notEqual(itemId("d/".repeat(150) + "x"), itemId("d/".repeat(150) + "y"));
});

Deno.test("deno task index: stores a folder, skips what is stored on a second run, names failures", async () => {
  const { app, collections, runner } = fakeApp();
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, app.fetch);
  const dir = await Deno.makeTempDir();
  const log = console.log, error = console.error;
  const lines: string[] = [];
  console.log = console.error = (line: string) => lines.push(line);
  try {
    await Deno.mkdir(join(dir, "sitar"));
    await Deno.writeTextFile(join(dir, "sitar", "one.wav"), "audio:[1,0]");
    await Deno.writeTextFile(join(dir, "sitar", "two.jpg"), "image:[0.9,0.1]");
    await Deno.writeTextFile(join(dir, "other.jpg"), "image:[0,1]");
    const url = `http://127.0.0.1:${server.addr.port}`;
    const args = [dir, "--collection", "lib", "--url", url, "--label-from-dir"];
    assert.equal(await main(args), 0, lines.join("\n"));
    assert.match(lines.at(-1)!, /lib: 3 added, 0 replaced, 0 unchanged, 0 already stored \(skipped\), 0 failed/);
    const item = await (await app.request("/v1/collections/lib/items/sitar:one.wav")).json();
    assert.deepEqual(item.item.metadata, { file: "sitar/one.wav", label: "sitar" });

    const jobs = runner.jobs.length;
    await Deno.writeTextFile(join(dir, "other.jpg"), "image:[0.1,1]"); // changed content is sent again
    await Deno.writeTextFile(join(dir, "a b.jpg"), "image:[1,1]");
    await Deno.writeTextFile(join(dir, "a_b.jpg"), "image:[1,2]"); // the same id as "a b.jpg"
    assert.equal(await main(args), 1);
    assert.equal(runner.jobs.length, jobs + 2, "only the new and the changed files were embedded");
    assert.ok(lines.some((l) => /1 added, 1 replaced, 0 unchanged, 2 already stored \(skipped\), 1 failed/.test(l)));
    assert.ok(lines.some((l) => /a_b.jpg: its id a_b.jpg is also a b.jpg.s/.test(l)), JSON.stringify(lines));

    assert.equal(await main([dir]), 2, "no --collection: a usage error");
    assert.equal(await main([dir, "--collection", "bad name"]), 2);
  } finally {
    console.log = log;
    console.error = error;
    await server.shutdown();
    await collections.close();
    await Deno.remove(dir, { recursive: true });
  }
});
