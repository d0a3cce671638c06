/**
 * Collections in Deno KV. Layout (every key starts with the tenant: the API key's hash prefix, or `_`
 * on an open service):
 *
 * - `["collection", tenant, name]` -> {@linkcode CollectionMeta}: item count, a version bumped by every
 *   write, and a generation id that item keys carry, so dropping a collection is one atomic delete;
 * - `["item", tenant, name, gen, id]` -> {@linkcode StoredItem} (vector as int8 + scale, ~0.3 kB plus
 *   metadata, far under KV's 64 KiB value limit);
 * - `["log", tenant, name, gen, version]` -> the id a write touched (expires after 10 minutes), so an
 *   instance that sees a newer version replays the few writes it missed instead of reloading everything;
 * - `["dropped", tenant, name, gen]` -> marks a dropped generation whose items are still being swept.
 *
 * Each put or delete is one `kv.atomic()` that checks the collection's and the item's versionstamps and
 * writes item, collection and log entry together: a crash leaves the item either fully there or not at
 * all, and concurrent writers retry rather than lose a count. The in-memory {@linkcode VectorIndex} of a
 * collection is built from KV on first use and kept in step by version.
 *
 * @module
 */
import { ProblemError } from "../errors.ts";
import { decodeInt8, encodeInt8 } from "./vector_codec.ts";
import { VectorIndex } from "./vector_index.ts";

/** A collection's record. */
export interface CollectionMeta {
  /** Generation: item keys carry it; a dropped and re-created collection gets a new one. */
  gen: string;
  count: number;
  /** Bumped by every write. */
  version: number;
  /** Dimensions of its vectors (set by the first item). */
  dim: number;
  createdAt: string;
}

/** An item as stored. */
export interface StoredItem {
  id: string;
  modality: "audio" | "image";
  /** The built-in classifier's label (null: no instrument recognised). */
  prediction: string | null;
  predictionScore: number | null;
  sha256: string;
  /** Model version that computed the vector. */
  model: string;
  metadata: Record<string, unknown> | null;
  /** int8 + scale (`vector_codec.ts`). */
  vector: Uint8Array;
  storedAt: string;
}

/** What a put writes (the vector as float). */
export type NewItem = Omit<StoredItem, "vector" | "storedAt"> & { vector: ArrayLike<number> };

/** What a put did. */
export type PutOutcome = "created" | "replaced" | "unchanged";

const LOG_TTL_MS = 10 * 60_000;
const RETRIES = 64;
const SWEEP_BATCH = 500;

/** Collections over one KV store. */
export class CollectionStore {
  #open: () => Promise<Deno.Kv>;
  #kv: Promise<Deno.Kv> | undefined;
  #failedAt = 0;
  #indexes = new Map<string, { gen: string; version: number; index: VectorIndex; loading?: Promise<void> }>();
  /** Most items per collection. */
  readonly maxItems: number;

  /**
   * @param options `open` opens the KV store (called lazily, again 2 s after a failure); `maxItems`
   *   bounds every collection.
   */
  constructor(options: { open: () => Promise<Deno.Kv>; maxItems: number }) {
    this.#open = options.open;
    this.maxItems = options.maxItems;
  }

  /** Closes the store (pending operations fail). */
  async close(): Promise<void> {
    const kv = this.#kv;
    this.#kv = undefined;
    if (kv) (await kv.catch(() => undefined))?.close();
  }

  /**
   * The KV store, opened on first use; 503 while it cannot be opened.
   */
  async kv(): Promise<Deno.Kv> {
    if (!this.#kv) {
      if (Date.now() - this.#failedAt < 2000) throw unavailable("it could not be opened a moment ago");
      this.#kv = this.#open();
      this.#kv.then((kv) => this.#sweepDropped(kv)).catch(() => {});
    }
    try {
      return await this.#kv;
    } catch (error) {
      this.#kv = undefined;
      this.#failedAt = Date.now();
      throw unavailable(`it could not be opened (${message(error)})`);
    }
  }

  /**
   * Opens the store and loads every collection's index, so the first searches after a start do not wait for
   * a rebuild. Failures are left for requests to report (503).
   *
   * @returns How many collections and items were loaded.
   */
  async warm(): Promise<{ collections: number; items: number }> {
    const kv = await this.kv();
    let collections = 0, items = 0;
    for await (const entry of guardIter(kv.list<CollectionMeta>({ prefix: ["collection"] }))) {
      const [, tenant, name] = entry.key as [string, string, string];
      const held = await this.index(tenant, name);
      collections++;
      items += held?.index.size ?? 0;
    }
    return { collections, items };
  }

  /**
   * A collection's record.
   *
   * @returns The record, or null when there is no such collection.
   */
  async meta(tenant: string, name: string): Promise<CollectionMeta | null> {
    const kv = await this.kv();
    return (await guard(kv.get<CollectionMeta>(["collection", tenant, name]))).value;
  }

  /**
   * Stores an item, replacing the one with the same id; the same content, model and metadata again
   * changes nothing.
   *
   * @throws {ProblemError} 409 when the collection is full or its vectors have another length; 503 when
   *   KV fails.
   */
  async put(tenant: string, name: string, item: NewItem): Promise<{ outcome: PutOutcome; item: StoredItem }> {
    const kv = await this.kv();
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const metaEntry = await guard(kv.get<CollectionMeta>(["collection", tenant, name]));
      const meta = metaEntry.value ??
        { gen: crypto.randomUUID(), count: 0, version: 0, dim: item.vector.length, createdAt: now() };
      if (meta.dim !== item.vector.length) {
        throw new ProblemError(
          409,
          `Collection ${name} holds ${meta.dim}-d vectors; this one has ${item.vector.length} (another model?)`,
        );
      }
      const key = ["item", tenant, name, meta.gen, item.id];
      const old = await guard(kv.get<StoredItem>(key));
      if (old.value && same(old.value, item)) return { outcome: "unchanged", item: old.value };
      if (!old.value && meta.count >= this.maxItems) {
        throw new ProblemError(
          409,
          `Collection ${name} is full: it holds ${meta.count} items, the limit (AMODAL_COLLECTION_MAX_ITEMS) is ` +
            `${this.maxItems}; delete items or use another collection`,
          { extensions: { limit: this.maxItems } },
        );
      }
      const stored: StoredItem = { ...item, vector: encodeInt8(item.vector), storedAt: now() };
      const next = { ...meta, count: meta.count + (old.value ? 0 : 1), version: meta.version + 1 };
      const ok = await this.#commit(
        kv.atomic()
          .check(metaEntry, old)
          .set(["collection", tenant, name], next)
          .set(key, stored)
          .set(["log", tenant, name, meta.gen, next.version], item.id, { expireIn: LOG_TTL_MS }),
      );
      if (ok) {
        this.#applied(
          tenant,
          name,
          meta,
          next,
          (index) => index.upsert(item.id, decodeInt8(stored.vector), facts(stored)),
        );
        return { outcome: old.value ? "replaced" : "created", item: stored };
      }
      await backoff(attempt);
    }
    throw unavailable(`too many concurrent writes to collection ${name}; retry`);
  }

  /**
   * One item.
   *
   * @returns The item, or null.
   */
  async get(tenant: string, name: string, id: string): Promise<StoredItem | null> {
    const kv = await this.kv();
    const meta = await this.meta(tenant, name);
    if (!meta) return null;
    return (await guard(kv.get<StoredItem>(["item", tenant, name, meta.gen, id]))).value;
  }

  /**
   * Several items of one generation, in the order asked (null where gone).
   *
   * @param gen The generation the ids were read from (`index()`'s meta).
   */
  async getMany(tenant: string, name: string, gen: string, ids: string[]): Promise<(StoredItem | null)[]> {
    const kv = await this.kv();
    const out: (StoredItem | null)[] = [];
    // getMany takes at most 10 keys.
    for (let i = 0; i < ids.length; i += 10) {
      const keys = ids.slice(i, i + 10).map((id) => ["item", tenant, name, gen, id]);
      for (const e of await guard(kv.getMany<StoredItem[]>(keys))) out.push(e.value);
    }
    return out;
  }

  /**
   * Deletes one item.
   *
   * @returns Whether it was there.
   */
  async delete(tenant: string, name: string, id: string): Promise<boolean> {
    const kv = await this.kv();
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const metaEntry = await guard(kv.get<CollectionMeta>(["collection", tenant, name]));
      const meta = metaEntry.value;
      if (!meta) return false;
      const key = ["item", tenant, name, meta.gen, id];
      const old = await guard(kv.get<StoredItem>(key));
      if (!old.value) return false;
      const next = { ...meta, count: meta.count - 1, version: meta.version + 1 };
      const ok = await this.#commit(
        kv.atomic()
          .check(metaEntry, old)
          .set(["collection", tenant, name], next)
          .delete(key)
          .set(["log", tenant, name, meta.gen, next.version], id, { expireIn: LOG_TTL_MS }),
      );
      if (ok) {
        this.#applied(tenant, name, meta, next, (index) => index.remove(id));
        return true;
      }
      await backoff(attempt);
    }
    throw unavailable(`too many concurrent writes to collection ${name}; retry`);
  }

  /**
   * Drops a collection: one atomic delete of its record (it is gone for every reader at once), then its
   * items are swept in batches; a crash during the sweep is finished at the next open.
   *
   * @returns The number of items it held, or null when there was no such collection.
   */
  async drop(tenant: string, name: string): Promise<number | null> {
    const kv = await this.kv();
    for (let attempt = 0; attempt < RETRIES; attempt++) {
      const metaEntry = await guard(kv.get<CollectionMeta>(["collection", tenant, name]));
      const meta = metaEntry.value;
      if (!meta) return null;
      const ok = await this.#commit(
        kv.atomic().check(metaEntry).delete(["collection", tenant, name]).set(["dropped", tenant, name, meta.gen], 1),
      );
      if (ok) {
        this.#indexes.delete(indexKey(tenant, name));
        await this.#sweep(kv, tenant, name, meta.gen);
        return meta.count;
      }
      await backoff(attempt);
    }
    throw unavailable(`too many concurrent writes to collection ${name}; retry`);
  }

  /**
   * A page of items in id order.
   *
   * @param cursor From the previous page's answer.
   * @param limit Items per page.
   * @returns The items and the next page's cursor (null on the last page).
   * @throws {ProblemError} 400 for a cursor this store did not give.
   */
  async list(
    tenant: string,
    name: string,
    options: { cursor?: string; limit: number },
  ): Promise<{ meta: CollectionMeta | null; items: StoredItem[]; cursor: string | null }> {
    const kv = await this.kv();
    const meta = await this.meta(tenant, name);
    if (!meta) return { meta, items: [], cursor: null };
    const items: StoredItem[] = [];
    let iter: Deno.KvListIterator<StoredItem>;
    try {
      iter = kv.list<StoredItem>({ prefix: ["item", tenant, name, meta.gen] }, {
        limit: options.limit,
        ...(options.cursor ? { cursor: options.cursor } : {}),
      });
      for await (const entry of iter) items.push(entry.value);
    } catch (error) {
      if (options.cursor) throw new ProblemError(400, `Invalid cursor ${JSON.stringify(options.cursor.slice(0, 80))}`);
      throw unavailable(message(error));
    }
    return { meta, items, cursor: items.length === options.limit && iter.cursor ? iter.cursor : null };
  }

  /**
   * The collection's vectors in memory, in step with KV: built on first use, then brought up to date
   * from the write log (or rebuilt when the log does not reach back far enough).
   *
   * @returns The index and the collection's record, or null when there is no such collection.
   */
  async index(tenant: string, name: string): Promise<{ index: VectorIndex; meta: CollectionMeta } | null> {
    const kv = await this.kv();
    const key = indexKey(tenant, name);
    for (let attempt = 0; attempt < 8; attempt++) {
      const meta = await this.meta(tenant, name);
      if (!meta) {
        this.#indexes.delete(key);
        return null;
      }
      let held = this.#indexes.get(key);
      if (held?.loading) {
        await held.loading.catch(() => {});
        continue;
      }
      if (held && held.gen === meta.gen && held.version === meta.version) return { index: held.index, meta };
      if (held && held.gen === meta.gen && held.version < meta.version) {
        if (await this.#replay(kv, tenant, name, held, meta)) return { index: held.index, meta };
      }
      held = { gen: meta.gen, version: -1, index: new VectorIndex(meta.dim) };
      const entry = held;
      entry.loading = this.#load(kv, tenant, name, entry).finally(() => delete entry.loading);
      this.#indexes.set(key, entry);
      await entry.loading;
    }
    throw unavailable(`collection ${name} changed too fast to load; retry`);
  }

  /** Loads every item of the generation, then records the version it reflects. */
  async #load(
    kv: Deno.Kv,
    tenant: string,
    name: string,
    held: { gen: string; version: number; index: VectorIndex },
  ): Promise<void> {
    // A list is not one snapshot: read the version before and after, and keep the result only when no write
    // happened in between (a later call replays or reloads otherwise).
    const before = await this.meta(tenant, name);
    const index = new VectorIndex(held.index.dim, Math.max(64, before?.count ?? 0));
    for await (const entry of guardIter(kv.list<StoredItem>({ prefix: ["item", tenant, name, held.gen] }))) {
      const item = entry.value;
      index.upsert(item.id, decodeInt8(item.vector), facts(item));
    }
    const after = await this.meta(tenant, name);
    held.index = index;
    held.version = before && after && before.version === after.version && after.gen === held.gen ? after.version : -1;
  }

  /** Applies the logged writes after `held.version`; false when the log is incomplete. */
  async #replay(
    kv: Deno.Kv,
    tenant: string,
    name: string,
    held: { gen: string; version: number; index: VectorIndex },
    meta: CollectionMeta,
  ): Promise<boolean> {
    const ids: string[] = [];
    let expect = held.version + 1;
    for await (
      const entry of guardIter(kv.list<string>({
        start: ["log", tenant, name, held.gen, held.version + 1],
        end: ["log", tenant, name, held.gen, meta.version + 1],
      }))
    ) {
      if (entry.key[4] !== expect++) return false;
      ids.push(entry.value);
    }
    if (expect !== meta.version + 1) return false;
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length; i += 10) {
      const keys = unique.slice(i, i + 10).map((id) => ["item", tenant, name, held.gen, id]);
      const entries = await guard(kv.getMany<StoredItem[]>(keys));
      entries.forEach((e, j) => {
        if (e.value) held.index.upsert(e.value.id, decodeInt8(e.value.vector), facts(e.value));
        else held.index.remove(unique[i + j]!);
      });
    }
    held.version = meta.version;
    return true;
  }

  /** After this instance's own commit: apply it to the held index when that index was current. */
  #applied(
    tenant: string,
    name: string,
    before: CollectionMeta,
    after: CollectionMeta,
    apply: (index: VectorIndex) => void,
  ): void {
    const held = this.#indexes.get(indexKey(tenant, name));
    if (held && !held.loading && held.gen === before.gen && held.version === before.version) {
      apply(held.index);
      held.version = after.version;
    }
  }

  async #commit(op: Deno.AtomicOperation): Promise<boolean> {
    try {
      return (await op.commit()).ok;
    } catch (error) {
      // Another process holding the SQLite file's write lock: as good as a failed check, try again.
      if (/database is locked|busy/i.test(message(error))) return false;
      throw unavailable(`a write failed (${message(error)}); nothing was changed`);
    }
  }

  async #sweep(kv: Deno.Kv, tenant: string, name: string, gen: string): Promise<void> {
    for (;;) {
      const keys: Deno.KvKey[] = [];
      for await (const e of guardIter(kv.list({ prefix: ["item", tenant, name, gen] }, { limit: SWEEP_BATCH }))) {
        keys.push(e.key);
      }
      for await (const e of guardIter(kv.list({ prefix: ["log", tenant, name, gen] }, { limit: SWEEP_BATCH }))) {
        keys.push(e.key);
      }
      if (keys.length === 0) break;
      const op = kv.atomic();
      for (const k of keys) op.delete(k);
      await this.#commit(op);
    }
    await this.#commit(kv.atomic().delete(["dropped", tenant, name, gen]));
  }

  /** Finishes sweeps a crash interrupted. */
  async #sweepDropped(kv: Deno.Kv): Promise<void> {
    for await (const e of kv.list({ prefix: ["dropped"] })) {
      const [, tenant, name, gen] = e.key as [string, string, string, string];
      await this.#sweep(kv, tenant, name, gen);
    }
  }
}

/**
 * Opens the KV store a URL names: an `http(s)://` KV Connect endpoint (token in `DENO_KV_ACCESS_TOKEN`),
 * `:memory:`, or a file path (its folder is created).
 *
 * @param url Where the store is.
 * @returns The open store.
 */
export async function openKv(url: string): Promise<Deno.Kv> {
  if (url !== ":memory:" && !/^https?:\/\//.test(url)) {
    const dir = url.replace(/[/\\][^/\\]*$/, "");
    if (dir && dir !== url) await Deno.mkdir(dir, { recursive: true });
  }
  return await Deno.openKv(url);
}

function facts(item: StoredItem) {
  const label = item.metadata && typeof item.metadata.label === "string" ? item.metadata.label : null;
  return { modality: item.modality, label, model: item.model };
}

function same(a: StoredItem, b: NewItem): boolean {
  return a.sha256 === b.sha256 && a.model === b.model && JSON.stringify(a.metadata) === JSON.stringify(b.metadata);
}

function indexKey(tenant: string, name: string): string {
  return `${tenant}\n${name}`;
}

function now(): string {
  return new Date().toISOString();
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function unavailable(why: string): ProblemError {
  return new ProblemError(503, `The collection store is unavailable: ${why}`, { headers: { "retry-after": "2" } });
}

/** A KV read; its failure becomes a 503. */
async function guard<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (error) {
    if (error instanceof ProblemError) throw error;
    throw unavailable(`a read failed (${message(error)})`);
  }
}

async function* guardIter<T>(iter: AsyncIterable<T>): AsyncGenerator<T> {
  try {
    for await (const x of iter) yield x;
  } catch (error) {
    if (error instanceof ProblemError) throw error;
    throw unavailable(`a read failed (${message(error)})`);
  }
}

function backoff(attempt: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 1 + attempt * 2)));
}
