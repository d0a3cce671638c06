/**
 * Reads the `manifest.csv` files of `../shared` (`corpus/`, `negatives/`): a header row, then one row per
 * file, with licences that may hold commas inside double quotes.
 *
 * @module
 */

/**
 * Parses a CSV file into one record per row, keyed by the header's column names.
 *
 * @param path The CSV file.
 * @returns The rows; a cell missing at the end of a row reads as `""`.
 *
 * @example
 * ```ts
 * const rows = readCsv("../shared/negatives/manifest.csv");
 * rows[0]!.license; // "CC-BY-3.0 (jakobthiesen, freesound 188423)"
 * ```
 */
export function readCsv(path: string): Record<string, string>[] {
  const [head, ...lines] = Deno.readTextFileSync(path).trim().split(/\r?\n/);
  const columns = head!.split(",");
  return lines.map((line) => {
    // Quoted fields (licences with commas) are kept whole.
    const cells = line.match(/("([^"]|"")*"|[^,]*)(,|$)/g)!.map((cell) => {
      const text = cell.replace(/,$/, "");
      return text.startsWith('"') ? text.slice(1, -1).replaceAll('""', '"') : text;
    });
    return Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? ""]));
  });
}
