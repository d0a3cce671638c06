/**
 * Hostile `POST /v1/batch` requests and the one judgement every answer must pass, shared by the fuzzer
 * (`deno task fuzz --target batch`) and the hostile suite (`tests/integration/hostile/batch_test.ts`).
 *
 * A batch answer is either a whole-request 4xx problem+json (malformed body, too many items or bytes) or a
 * 200 whose `items` answer every item sent, in order, each with status 200 and a `result` or a 4xx and a
 * `problem`. Anything else (a 5xx, an item 5xx, a missing or extra item, a hang) is a finding.
 *
 * @module
 */

/** One hostile batch request. */
export interface BatchCase {
  name: string;
  body: Uint8Array | string | FormData;
  headers: Record<string, string>;
  /** Items the service should answer one by one when it accepts the request (undefined: not known). */
  items?: number;
  /** Whole-request statuses this case may get (default: 200 or any 4xx). */
  expect?: number[];
  /** Statuses each item may get when the request is accepted (default: 200 or any 4xx). */
  itemExpect?: number[];
  /** The exact status of each item, in order, when the request is accepted (overrides `itemExpect`). */
  itemStatuses?: number[];
}

/** What a batch answer was judged to be. */
export type BatchVerdict =
  | { ok: true; status: number; items: Record<string, number> }
  | { ok: false; kind: "5xx" | "malformed" | "unexpected"; status: number; detail: string };

const JSON_TYPE = { "content-type": "application/json" };

/** base64 of bytes (chunked: `btoa` of a long string argument list would overflow the stack). */
export function toBase64(bytes: Uint8Array): string {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

/** A JSON batch body of base64 items. */
export function jsonBatch(items: readonly Uint8Array[], names = true): BatchCase["body"] {
  return JSON.stringify({
    items: items.map((bytes, i) => ({ ...(names ? { name: `item-${i}` } : {}), data: toBase64(bytes) })),
  });
}

/** A multipart batch body with one `file` part per item. */
export function multipartBatch(items: readonly Uint8Array[]): FormData {
  const form = new FormData();
  items.forEach((bytes, i) => form.append("file", new File([new Uint8Array(bytes)], `item-${i}`)));
  return form;
}

function nested(depth: number, open: string, close: string, inner = "0"): string {
  return open.repeat(depth) + inner + close.repeat(depth);
}

/**
 * The structural cases: every way a batch body can be wrong as a whole or per item, around real files.
 *
 * @param options `valid`: a few decodable files (a WAV and a photo at least); `maxItems` and `maxBodyBytes`:
 * the service's bounds; `inconsistentWav`: a WAV whose header contradicts itself (7 bits, block align 0).
 * @returns Cases with the statuses they must get.
 */
export function structuralBatchCases(options: {
  valid: readonly Uint8Array[];
  maxItems: number;
  maxBodyBytes: number;
  inconsistentWav: Uint8Array;
}): BatchCase[] {
  const { valid, maxItems, maxBodyBytes } = options;
  const first = valid[0]!;
  const json = (name: string, body: string, expect: number[], extra: Partial<BatchCase> = {}): BatchCase => ({
    name,
    body,
    headers: JSON_TYPE,
    expect,
    ...extra,
  });
  // The hostile item first, a valid file after it: the valid one must still be answered.
  const oneItem = (name: string, item: unknown, status: number): BatchCase =>
    json(name, JSON.stringify({ items: [item, { data: toBase64(first) }] }), [200], {
      items: 2,
      itemStatuses: [status, 200],
    });
  const tooMany = maxItems + 1;
  const text = new TextEncoder();
  return [
    // Counts and sizes.
    json("1,000 empty items (JSON)", JSON.stringify({ items: Array.from({ length: 1000 }, () => ({ data: "" })) }), [
      413,
    ]),
    {
      name: "1,000 empty parts (multipart)",
      body: multipartBatch(Array.from({ length: 1000 }, () => new Uint8Array(0))),
      headers: {},
      expect: [413],
    },
    json(
      `${tooMany} one-byte items (one over the item bound)`,
      jsonBatch(Array(tooMany).fill(new Uint8Array([1]))) as string,
      [413],
    ),
    {
      name: `${tooMany} one-byte parts (multipart)`,
      body: multipartBatch(Array(tooMany).fill(new Uint8Array([1]))),
      headers: {},
      expect: [413],
    },
    json("one item of the whole body limit", JSON.stringify({ items: [{ data: "A".repeat(maxBodyBytes) }] }), [413]),
    {
      name: "two parts that together pass the body limit",
      body: multipartBatch([new Uint8Array(maxBodyBytes / 2 + 1), new Uint8Array(maxBodyBytes / 2 + 1)]),
      headers: {},
      expect: [413],
    },
    json(
      `${maxItems} empty items (at the bound: each one 400)`,
      JSON.stringify({ items: Array(maxItems).fill({ data: "" }) }),
      [200],
      {
        items: maxItems,
        itemExpect: [400],
      },
    ),
    // Duplicates: one inference, every copy answered.
    json(`${maxItems} copies of one file (JSON)`, jsonBatch(Array(maxItems).fill(first)) as string, [200], {
      items: maxItems,
      itemExpect: [200],
    }),
    {
      name: "the valid files over and over, interleaved (multipart)",
      body: multipartBatch(Array.from({ length: maxItems }, (_, i) => valid[i % valid.length]!)),
      headers: {},
      expect: [200],
      items: maxItems,
      itemExpect: [200],
    },
    // Malformed base64: that item alone is refused.
    ...[
      ["not base64", "!!!!"],
      ["one character too long", "AAAAA"],
      ["padding only", "===="],
      ["padding in the middle", "AA==AAAA"],
      ["a data: URL", `data:image/jpeg;base64,${toBase64(first.subarray(0, 30))}`],
      ["base64url alphabet", "-_-_"],
      ["non-ASCII", "ÿÿÿÿ"],
      ["whitespace only", " \n\t "],
      ["a NUL", "AA\u0000A"],
    ].map(([name, data]) => oneItem(`malformed base64: ${name}`, { data }, 400)),
    oneItem("base64 of JSON text", { data: btoa('{"items":[]}') }, 415),
    oneItem(
      "base64 of random bytes",
      { data: toBase64(Uint8Array.from({ length: 64 }, (_, i) => (i * 97) & 255)) },
      415,
    ),
    oneItem(
      "a WAV header that contradicts itself (7 bits, block align 0)",
      { data: toBase64(options.inconsistentWav) },
      422,
    ),
    oneItem("a huge claimed size beside the data (ignored)", { data: toBase64(first), size: 1e308, bytes: -1 }, 200),
    // Wrong types: the body does not match the schema, so the whole request is refused.
    ...([
      ["data a number", { items: [{ data: 123 }] }],
      ["data null", { items: [{ data: null }] }],
      ["data an array", { items: [{ data: ["AAAA"] }] }],
      ["data an object", { items: [{ data: { data: "AAAA" } }] }],
      ["name a number", { items: [{ name: 5, data: "AAAA" }] }],
      ["an item that is a string", { items: ["AAAA"] }],
      ["an item that is null", { items: [null] }],
      ["items an object", { items: { 0: { data: "AAAA" } } }],
      ["items a string", { items: "AAAA" }],
      ["items null", { items: null }],
      ["no items key", { files: [{ data: "AAAA" }] }],
      ["a top-level array", [{ data: "AAAA" }]],
      ["a top-level string", "AAAA"],
      ["a top-level number", 7],
      ["top-level null", null],
    ] as const).map(([name, body]) => json(`wrong type: ${name}`, JSON.stringify(body), [400])),
    // Nested junk and broken JSON.
    json("items nested 10,000 arrays deep", `{"items":${nested(10_000, "[", "]")}}`, [400]),
    json("data nested 10,000 objects deep", `{"items":[{"data":${nested(10_000, '{"a":', "}")}}]}`, [400]),
    json("a body of 200,000 open brackets", "[".repeat(200_000), [400]),
    json("unterminated JSON", '{"items":[{"data":"AAAA"', [400]),
    json("JSON with a byte-order mark", `\ufeff${jsonBatch([first])}`, [200, 400], { items: 1, itemExpect: [200] }),
    {
      // The body is read as UTF-8 with replacement characters: the item's data is then not base64.
      name: "JSON with invalid UTF-8",
      body: new Uint8Array([...text.encode('{"items":[{"data":"'), 0xff, 0xfe, ...text.encode('"}]}')]),
      headers: JSON_TYPE,
      expect: [200, 400],
      items: 1,
      itemStatuses: [400],
    },
    json(
      "a 100,000-key object",
      JSON.stringify(Object.fromEntries(Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i]))),
      [
        400,
      ],
    ),
    // Content types that lie about the body.
    {
      name: "JSON labelled multipart",
      body: jsonBatch([first]),
      headers: { "content-type": "multipart/form-data; boundary=x" },
      expect: [400],
    },
    { name: "multipart labelled JSON", body: multipartText("XyZ", first.length), headers: JSON_TYPE, expect: [400] },
    {
      name: "a raw file, no batch at all",
      body: first,
      headers: { "content-type": "application/octet-stream" },
      expect: [400, 415],
    },
    {
      name: "a part claiming Content-Length 99999999999 (multipart)",
      body: multipartText("XyZ", 99_999_999_999),
      headers: { "content-type": "multipart/form-data; boundary=XyZ" },
      expect: [200, 400],
      items: 1,
      itemStatuses: [415],
    },
    {
      name: "parts under another field name only",
      body: (() => {
        const form = new FormData();
        form.append("files", new File([new Uint8Array(first)], "a"));
        return form;
      })(),
      headers: {},
      expect: [400],
    },
  ];
}

/** A hand-written multipart body with one small `file` part whose part headers claim `claimed` bytes. */
function multipartText(boundary: string, claimed: number): string {
  return [
    `--${boundary}`,
    `Content-Disposition: form-data; name="file"; filename="a.bin"`,
    `Content-Length: ${claimed}`,
    "",
    "not a real file",
    `--${boundary}--`,
    "",
  ].join("\r\n");
}

/** A service answer read once: its text, content type, JSON (when it parses) and a short detail for reports. */
export interface Answer {
  text: string;
  type: string;
  json?: Record<string, unknown>;
  detail: string;
}

/**
 * Reads an answer's body for judging: the fuzzer and the batch judge look at the same parts.
 *
 * @param res The response.
 * @returns Its text, content type, JSON when it parses, and `detail` (the problem's, else the text's start).
 */
export async function readAnswer(res: Response): Promise<Answer> {
  const text = await res.text();
  const type = res.headers.get("content-type") ?? "";
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(text);
  } catch { /* not JSON: the caller judges that */ }
  return { text, type, json, detail: String(json?.detail ?? text.slice(0, 200)) };
}

/**
 * Judges one batch answer (reads the body).
 *
 * @param res The response.
 * @param c The case sent: its expected statuses and item count.
 * @returns `ok` with the whole status and a histogram of item statuses, or what was wrong.
 */
export async function judgeBatch(
  res: Response,
  c: Pick<BatchCase, "items" | "expect" | "itemExpect" | "itemStatuses">,
): Promise<BatchVerdict> {
  const { text, type, json, detail } = await readAnswer(res);
  if (res.status >= 500) return { ok: false, kind: "5xx", status: res.status, detail };
  if (!res.headers.get("x-request-id")) {
    return { ok: false, kind: "malformed", status: res.status, detail: "no X-Request-Id" };
  }
  if (res.status !== 200) {
    if (!json || type !== "application/problem+json" || json.status !== res.status || typeof json.title !== "string") {
      return { ok: false, kind: "malformed", status: res.status, detail: `${type}: ${text.slice(0, 200)}` };
    }
    if (c.expect && !c.expect.includes(res.status)) {
      return { ok: false, kind: "unexpected", status: res.status, detail };
    }
    return { ok: true, status: res.status, items: {} };
  }
  if (c.expect && !c.expect.includes(200)) {
    return { ok: false, kind: "unexpected", status: 200, detail: text.slice(0, 200) };
  }
  const items = json?.items;
  if (type !== "application/json" || !Array.isArray(items)) {
    return { ok: false, kind: "malformed", status: 200, detail: `${type}: ${text.slice(0, 200)}` };
  }
  if (c.items !== undefined && items.length !== c.items) {
    return { ok: false, kind: "malformed", status: 200, detail: `${items.length} answers for ${c.items} items` };
  }
  const histogram: Record<string, number> = {};
  for (const [i, item] of (items as Record<string, unknown>[]).entries()) {
    const status = Number(item.status);
    histogram[status] = (histogram[status] ?? 0) + 1;
    if (item.index !== i) {
      return { ok: false, kind: "malformed", status: 200, detail: `item ${i} has index ${item.index}` };
    }
    if (status >= 500) return { ok: false, kind: "5xx", status, detail: `item ${i}: ${JSON.stringify(item.problem)}` };
    const problem = item.problem as Record<string, unknown> | undefined;
    const wellFormed = status === 200
      ? typeof item.result === "object" && item.result !== null
      : status >= 400 && status < 500 && problem?.status === status && typeof problem.detail === "string";
    if (!wellFormed) return { ok: false, kind: "malformed", status, detail: `item ${i}: ${JSON.stringify(item)}` };
    const allowed = c.itemStatuses ? [c.itemStatuses[i]] : c.itemExpect;
    if (allowed && !allowed.includes(status)) {
      return { ok: false, kind: "unexpected", status, detail: `item ${i}: ${String(problem?.detail ?? status)}` };
    }
  }
  return { ok: true, status: 200, items: histogram };
}
