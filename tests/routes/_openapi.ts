// deno-lint-ignore-file no-import-prefix -- a test-only package is pinned here, outside the service's import map
/**
 * Checks real responses against the service's own OpenAPI document: the status must be documented for
 * the route, and a JSON body must validate against the documented schema (JSON Schema 2020-12, as
 * OpenAPI 3.1 uses). Shared by the in-process route tests and the real-service test.
 *
 * @module
 */
// A literal, pinned npm specifier rather than a deno.json import: ajv is test-only, so the service's import map (and
// serve.lock, all that `deno task start` installs) never carries it; deno.lock locks it.
import Ajv2020 from "npm:ajv@8.17.1/dist/2020.js";
import assert from "node:assert/strict";

/** An OpenAPI 3.1 document, as much of it as the checks read. */
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, { responses: Record<string, OpenApiResponse> }>>;
  components?: Record<string, unknown>;
}

interface OpenApiResponse {
  content?: Record<string, { schema: unknown }>;
  headers?: Record<string, unknown>;
}

/** Validates responses against one document and records which operations and statuses were seen. */
export class ResponseChecker {
  #doc: OpenApiDocument;
  // ajv's typings model a CommonJS default export; the runtime value is the constructor.
  #ajv = new (Ajv2020 as unknown as typeof Ajv2020.default)({ strict: false, validateFormats: false });
  /** `METHOD /documented/path status` for every response checked. */
  seen = new Set<string>();

  /** @param doc The service's `/openapi.json`. */
  constructor(doc: OpenApiDocument) {
    assert.equal(doc.openapi, "3.1.0");
    this.#doc = doc;
  }

  /** Every documented `METHOD path`. */
  operations(): string[] {
    return Object.entries(this.#doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)
    );
  }

  /**
   * Asserts that a response is documented and its body matches the documented schema.
   *
   * @param method The request method.
   * @param path The documented path template, e.g. `/v1/results/{sha256}`.
   * @param res The response (its body is read).
   * @returns The parsed body (undefined when empty).
   */
  async check(method: string, path: string, res: Response): Promise<unknown> {
    const operation = this.#doc.paths[path]?.[method.toLowerCase()];
    assert.ok(operation, `${method} ${path} is not in the OpenAPI document`);
    const documented = operation.responses[String(res.status)];
    assert.ok(documented, `${method} ${path} answered ${res.status}, which the document does not list`);
    this.seen.add(`${method.toUpperCase()} ${path} ${res.status}`);
    const text = await res.text();
    if (!documented.content) {
      assert.equal(text, "", `${method} ${path} ${res.status} is documented without a body`);
      return undefined;
    }
    const type = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
    const media = documented.content[type];
    assert.ok(media, `${method} ${path} ${res.status} sent ${type}, documented: ${Object.keys(documented.content)}`);
    const body = JSON.parse(text);
    const validate = this.#ajv.compile({ ...(media.schema as object), components: this.#doc.components });
    assert.ok(
      validate(body),
      `${method} ${path} ${res.status} body does not match the document: ${JSON.stringify(validate.errors)}\n${text}`,
    );
    return body;
  }
}
