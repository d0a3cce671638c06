/**
 * A single-line progress bar on stderr (one line per 10 % when stderr is not
 * a terminal, so logs stay short).
 *
 * @module
 */

/**
 * Creates a progress reporter.
 *
 * @returns `(stage, done, total)`; call with `done === total` to finish a stage's line.
 *
 * @example
 * ```ts
 * const progress = createProgress();
 * progress("render", 3, 10);
 * ```
 */
export function createProgress(): (stage: string, done: number, total: number) => void {
  const tty = Deno.stderr.isTerminal();
  const encoder = new TextEncoder();
  let lastStage = "";
  let lastDraw = 0;
  let lastDecile = -1;
  const started = new Map<string, number>();
  return (stage, done, total) => {
    const now = performance.now();
    if (!started.has(stage)) started.set(stage, now);
    const fraction = total > 0 ? Math.min(1, done / total) : 1;
    const finished = done >= total;
    const seconds = ((now - started.get(stage)!) / 1000).toFixed(0);
    const width = 30;
    const filled = Math.round(fraction * width);
    const line = `${stage.padEnd(16)} [${"#".repeat(filled)}${
      "-".repeat(width - filled)
    }] ${done}/${total} ${seconds}s`;
    if (tty) {
      if (!finished && stage === lastStage && now - lastDraw < 150) return;
      Deno.stderr.writeSync(encoder.encode(`\r${line}\x1b[K${finished ? "\n" : ""}`));
    } else {
      const decile = Math.floor(fraction * 10);
      if (stage === lastStage && decile === lastDecile && !finished) return;
      lastDecile = decile;
      Deno.stderr.writeSync(encoder.encode(`${line}\n`));
    }
    lastStage = stage;
    lastDraw = now;
  };
}
