/**
 * What collection names and item ids may be: short, URL-safe, and never ambiguous in a KV key or a path.
 *
 * @module
 */
import { ProblemError } from "../errors.ts";

/** Collection names: 1-64 of letters, digits, `.`, `_`, `-`, starting with a letter or digit. */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Item ids: 1-200 of letters, digits and `.` `_` `-` `~` `:` `@` `+` `=`, starting with a letter or digit. */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._~:@+=-]{0,199}$/;

/**
 * Checks a collection name.
 *
 * @param name From the path.
 * @returns The name.
 * @throws {ProblemError} 400 naming the rule.
 */
export function checkName(name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new ProblemError(
      400,
      `Invalid collection name ${JSON.stringify(name.slice(0, 80))}: use 1-64 letters, digits, ".", "_" or "-", ` +
        "starting with a letter or digit",
    );
  }
  return name;
}

/**
 * Checks an item id.
 *
 * @param id From the path.
 * @returns The id.
 * @throws {ProblemError} 400 naming the rule.
 */
export function checkId(id: string): string {
  if (!ID_PATTERN.test(id)) {
    throw new ProblemError(
      400,
      `Invalid item id ${JSON.stringify(id.slice(0, 80))}: use 1-200 letters, digits or . _ - ~ : @ + =, ` +
        "starting with a letter or digit",
    );
  }
  return id;
}
