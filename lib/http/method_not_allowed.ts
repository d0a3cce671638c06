/**
 * 405 with `Allow` for a known path asked with another method, instead of a 404 that suggests the
 * path does not exist.
 *
 * @module
 */
import type { Context } from "hono";
import { ProblemError } from "../errors.ts";

/** A route as Hono lists it in `app.routes`. */
export interface RouteEntry {
  method: string;
  path: string;
}

/**
 * Builds a `notFound` handler that answers 405 when the path matches a route under another method.
 *
 * @param routes The app's routes (`app.routes`, read after all are registered); middleware entries
 *   (method `ALL`) are ignored.
 * @returns A handler answering 405 + `Allow`, or 404.
 */
export function methodNotAllowed(routes: readonly RouteEntry[]): (c: Context) => Response {
  const patterns = routes.filter((r) => r.method !== "ALL").map((r) => ({
    method: r.method,
    regex: new RegExp(
      "^" +
        r.path.split("/").map((part) =>
          part.startsWith(":") ? "[^/]+" : part === "*" ? ".*" : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
        ).join("/") + "/?$",
    ),
  }));
  return function notFound(c) {
    const path = new URL(c.req.url).pathname;
    const allowed = new Set(patterns.filter((p) => p.regex.test(path)).map((p) => p.method));
    if (allowed.size > 0) {
      // Hono answers HEAD with the GET route.
      if (allowed.has("GET")) allowed.add("HEAD");
      const allow = [...allowed].sort().join(", ");
      return new ProblemError(405, `${path} does not take ${c.req.method}; use ${allow}`, {
        headers: { allow },
      }).toResponse();
    }
    return new ProblemError(404, `No route for ${c.req.method} ${path}`).toResponse();
  };
}
