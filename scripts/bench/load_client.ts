/**
 * The bench's load generator, run as its own Deno process (so it never shares
 * the server's isolate or event loop): `connections` keep-alive clients each
 * POST the next body of a list as soon as the previous answer arrives (closed
 * loop), for `durationS` seconds; prints one JSON line with the counts and
 * client-side latency percentiles.
 *
 * Usage: `deno run --allow-net --allow-read load_client.ts URL CONNECTIONS DURATION_S BODY_FILE...`
 *
 * @module
 */

/** What the client prints (one JSON line on stdout). */
export interface LoadClientOutput {
  requests: number;
  errors: number;
  seconds: number;
  /** Latencies of the completed requests, ms, sorted. Percentiles are taken by the caller. */
  latenciesMs: number[];
}

/**
 * Runs the closed loop.
 *
 * @param url Endpoint.
 * @param bodies Request bodies, used in turn across all clients.
 * @param options Concurrency and duration.
 * @returns Counts and sorted latencies.
 */
export async function closedLoop(
  url: string,
  bodies: readonly Uint8Array<ArrayBuffer>[],
  options: { connections: number; durationS: number },
): Promise<LoadClientOutput> {
  // One HTTP/1.1 client per connection: Deno's fetch pools and reuses (keeps alive) its connections.
  const clients = Array.from({ length: options.connections }, () => Deno.createHttpClient({ http2: false }));
  const latencies: number[] = [];
  let errors = 0;
  let counter = 0;
  const started = performance.now();
  const deadline = started + options.durationS * 1000;
  await Promise.all(clients.map(async (client) => {
    while (performance.now() < deadline) {
      const body = bodies[counter++ % bodies.length]!;
      const t = performance.now();
      try {
        const response = await fetch(url, {
          method: "POST",
          body,
          headers: { "content-type": "application/octet-stream" },
          client,
        });
        await response.arrayBuffer();
        if (response.status >= 400) errors++;
        else latencies.push(performance.now() - t);
      } catch {
        errors++;
      }
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  for (const c of clients) c.close();
  latencies.sort((a, b) => a - b);
  return { requests: latencies.length + errors, errors, seconds, latenciesMs: latencies };
}

if (import.meta.main) {
  const [url, connections, durationS, ...files] = Deno.args;
  if (!url || !connections || !durationS || files.length === 0) {
    throw new TypeError("Usage: load_client.ts URL CONNECTIONS DURATION_S BODY_FILE...");
  }
  const bodies = await Promise.all(files.map((f) => Deno.readFile(f)));
  const out = await closedLoop(url, bodies, { connections: Number(connections), durationS: Number(durationS) });
  console.log(JSON.stringify(out));
}
