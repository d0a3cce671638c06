import assert from "node:assert/strict";
import { CollectionStore } from "../../../lib/collections/store.ts";

const WRITER = new URL("./_writer.ts", import.meta.url).pathname;

function writer(path: string, prefix: string, count: number) {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-kv", WRITER, path, "c", prefix, String(count)],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
}

/** Every item listed is whole, and the collection's count and index agree with the list. */
async function assertConsistent(path: string): Promise<number> {
  const store = new CollectionStore({ open: () => Deno.openKv(path), maxItems: 1_000_000 });
  try {
    const meta = await store.meta("_", "c");
    const page = await store.list("_", "c", { limit: 1000 });
    assert.equal(page.items.length, meta!.count, "count matches the items stored");
    for (const item of page.items) {
      assert.equal(item.vector.length, 4 + 128, `${item.id}: whole vector`);
      assert.equal(typeof (item.metadata as { i: number }).i, "number", `${item.id}: whole metadata`);
    }
    assert.equal((await store.index("_", "c"))!.index.size, meta!.count);
    return meta!.count;
  } finally {
    await store.close();
  }
}

Deno.test("CollectionStore: two writer processes at once lose no item and no count", async () => {
  const path = await Deno.makeTempFile({ suffix: ".sqlite3" });
  try {
    const a = writer(path, "a", 60), b = writer(path, "b", 60);
    const [ra, rb] = await Promise.all([a.output(), b.output()]);
    assert.ok(ra.success && rb.success);
    assert.equal(await assertConsistent(path), 120);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("CollectionStore: a writer killed between writes leaves only whole items and a true count", async () => {
  const path = await Deno.makeTempFile({ suffix: ".sqlite3" });
  try {
    const child = writer(path, "k", 100_000);
    let seen = 0;
    let text = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      text += chunk;
      seen = text.split("\n").filter((l) => l.startsWith("wrote")).length;
      if (seen >= 40) {
        child.kill("SIGKILL");
        break;
      }
    }
    await child.status;
    const count = await assertConsistent(path);
    // Everything it announced is there; at most the write in flight when it died was also committed.
    assert.ok(count >= seen && count <= seen + 1, `count ${count}, announced ${seen}`);
    // The store goes on working after the crash.
    const store = new CollectionStore({ open: () => Deno.openKv(path), maxItems: 1_000_000 });
    await store.delete("_", "c", "k-0");
    assert.equal((await store.meta("_", "c"))!.count, count - 1);
    await store.close();
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("CollectionStore: a drop interrupted mid-sweep is finished at the next open", async () => {
  const path = await Deno.makeTempFile({ suffix: ".sqlite3" });
  try {
    assert.ok((await writer(path, "d", 30).output()).success);
    // Simulate a crash after the drop's atomic delete, before its sweep: the record is gone, items remain.
    const kv = await Deno.openKv(path);
    const meta = (await kv.get<{ gen: string }>(["collection", "_", "c"])).value!;
    await kv.atomic().delete(["collection", "_", "c"]).set(["dropped", "_", "c", meta.gen], 1).commit();
    let left = 0;
    for await (const _ of kv.list({ prefix: ["item", "_", "c", meta.gen] })) left++;
    assert.equal(left, 30);
    kv.close();
    const store = new CollectionStore({ open: () => Deno.openKv(path), maxItems: 10 });
    assert.equal(await store.meta("_", "c"), null);
    await new Promise((r) => setTimeout(r, 300)); // the sweep runs in the background after opening
    await store.close();
    const check = await Deno.openKv(path);
    let remaining = 0;
    for await (const _ of check.list({ prefix: ["item", "_", "c"] })) remaining++;
    assert.equal(remaining, 0);
    assert.equal((await check.get(["dropped", "_", "c", meta.gen])).value, null);
    check.close();
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("CollectionStore.warm() loads every collection's index from KV", async () => {
  const path = await Deno.makeTempFile({ suffix: ".sqlite3" });
  try {
    assert.ok((await writer(path, "w", 12).output()).success);
    const store = new CollectionStore({ open: () => Deno.openKv(path), maxItems: 100 });
    assert.deepEqual(await store.warm(), { collections: 1, items: 12 });
    await store.close();
  } finally {
    await Deno.remove(path);
  }
});
