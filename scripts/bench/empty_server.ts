/**
 * An empty Hono route (`POST /` answers 204, body read and dropped), served on
 * a free port: the target that measures the load generator's own ceiling, so
 * the bench can show its numbers are the service's, not the client's.
 * Prints `LISTENING <port>` once ready.
 *
 * @module
 */
import { Hono } from "hono";

const app = new Hono();
app.post("/", async (c) => {
  await c.req.arrayBuffer();
  return c.body(null, 204);
});
Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: ({ port }) => console.log(`LISTENING ${port}`) }, app.fetch);
