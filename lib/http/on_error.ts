/**
 * The single error handler: every failure becomes `application/problem+json`.
 * Only 5xx are logged, and clients never see stacks or file paths.
 *
 * @module
 */
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { ProblemError } from "../errors.ts";

/**
 * Hono `onError` handler.
 *
 * @param error What a route or middleware threw.
 * @param c The request context.
 * @returns A problem+json response.
 */
export function onError(error: Error, c: Context): Response {
  let problem: ProblemError;
  if (error instanceof ProblemError) problem = error;
  else if (error instanceof HTTPException) {
    problem = new ProblemError(error.status, error.message || "Request rejected");
  } else problem = new ProblemError(500, "Internal error; the request id identifies it in the logs");
  if (problem.status >= 500) {
    console.error(JSON.stringify({
      level: "error",
      requestId: c.get("requestId"),
      status: problem.status,
      error: error instanceof ProblemError ? error.message : String(error),
    }));
  }
  return problem.toResponse();
}

/**
 * Hono `notFound` handler.
 *
 * @param c The request context.
 * @returns A 404 problem+json response.
 */
export function notFound(c: Context): Response {
  return new ProblemError(404, `No route for ${c.req.method} ${new URL(c.req.url).pathname}`).toResponse();
}
