/**
 * The one error type that reaches HTTP clients: an RFC 9457 problem.
 *
 * Library code throws `ProblemError` only for conditions a caller is
 * expected to see as a 4xx (bad media, limits); everything else is a plain
 * built-in error and becomes a 500 without details.
 *
 * @module
 */

/** The body of an `application/problem+json` response. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  [extension: string]: unknown;
}

/** Problem types, one per distinct condition clients may branch on. */
export const PROBLEM_TYPES = {
  400: "https://amodal.dev/problems/bad-request",
  401: "https://amodal.dev/problems/unauthorized",
  404: "https://amodal.dev/problems/not-found",
  405: "https://amodal.dev/problems/method-not-allowed",
  409: "https://amodal.dev/problems/conflict",
  413: "https://amodal.dev/problems/too-large",
  415: "https://amodal.dev/problems/unsupported-media",
  422: "https://amodal.dev/problems/undecodable-media",
  429: "https://amodal.dev/problems/rate-limited",
  500: "https://amodal.dev/problems/internal",
  503: "https://amodal.dev/problems/overloaded",
  504: "https://amodal.dev/problems/timeout",
} as const;

const TITLES: Record<number, string> = {
  400: "Bad request",
  401: "Unauthorized",
  404: "Not found",
  405: "Method not allowed",
  409: "Conflict",
  413: "Payload too large",
  415: "Unsupported media type",
  422: "Unprocessable media",
  429: "Too many requests",
  500: "Internal server error",
  503: "Service overloaded",
  504: "Request timed out",
};

/**
 * An error that carries an HTTP status and renders as problem+json.
 *
 * @example
 * ```ts
 * throw new ProblemError(415, "Not a supported audio or image format (first bytes 00 01 02 03)");
 * ```
 */
export class ProblemError extends Error {
  /** HTTP status, 4xx or 5xx. */
  readonly status: number;
  /** Extra members merged into the problem body (e.g. `limit`). */
  readonly extensions: Record<string, unknown>;
  /** Extra response headers (e.g. `Retry-After`). */
  readonly headers: Record<string, string>;

  /**
   * @param status HTTP status code.
   * @param detail Human-readable explanation naming the offending value.
   * @param options Extra problem members and response headers.
   */
  constructor(
    status: number,
    detail: string,
    options: { extensions?: Record<string, unknown>; headers?: Record<string, string> } = {},
  ) {
    super(detail);
    this.name = "ProblemError";
    this.status = status;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }

  /** The problem+json body. */
  toProblem(): Problem {
    return {
      type: PROBLEM_TYPES[this.status as keyof typeof PROBLEM_TYPES] ?? "about:blank",
      title: TITLES[this.status] ?? "Error",
      status: this.status,
      detail: this.message,
      ...this.extensions,
    };
  }

  /** A Response carrying the problem+json body and headers. */
  toResponse(): Response {
    return new Response(JSON.stringify(this.toProblem()), {
      status: this.status,
      headers: { "content-type": "application/problem+json", ...this.headers },
    });
  }
}
