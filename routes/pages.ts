/**
 * What a person opens in a browser: the OpenAPI document at `/openapi.json`, its reference page at
 * `/docs` (Swagger UI, served from node_modules: no CDN), and the try-it page at `/` (plain files in
 * `web/`, no build step) with the map of the joint space it draws (`/joint_map.json`, written by
 * `deno task map` into the models folder, beside the model it belongs to).
 *
 * @module
 */
import { Hono } from "hono";
import { join } from "node:path";
import getSwaggerUiDir from "swagger-ui-dist/absolute-path.js";
import { REPO_ROOT } from "../lib/config.ts";
import { ProblemError } from "../lib/errors.ts";

/** A file served as-is: where it is and its media type. */
interface Asset {
  path: string;
  type: string;
}

const WEB = join(REPO_ROOT, "web");

/** Every static file the service serves, by URL path; nothing else on disk is reachable. */
function assets(modelsDir: string): Record<string, Asset> {
  const swagger = getSwaggerUiDir();
  return {
    "/": { path: join(WEB, "index.html"), type: "text/html; charset=utf-8" },
    "/app.js": { path: join(WEB, "app.js"), type: "text/javascript; charset=utf-8" },
    "/app.css": { path: join(WEB, "app.css"), type: "text/css; charset=utf-8" },
    "/joint_map.json": { path: join(modelsDir, "joint_map.json"), type: "application/json" },
    "/docs": { path: join(WEB, "docs.html"), type: "text/html; charset=utf-8" },
    "/docs/docs.js": { path: join(WEB, "docs.js"), type: "text/javascript; charset=utf-8" },
    "/docs/swagger-ui.css": { path: join(swagger, "swagger-ui.css"), type: "text/css; charset=utf-8" },
    "/docs/swagger-ui-bundle.js": {
      path: join(swagger, "swagger-ui-bundle.js"),
      type: "text/javascript; charset=utf-8",
    },
  };
}

/**
 * Builds the page routes.
 *
 * @param openapi The generated OpenAPI document.
 * @param options `modelsDir` holds `joint_map.json`.
 * @returns A router with `/openapi.json`, `/docs` and its assets, and `/` with its assets.
 */
export function pageRoutes(openapi: () => unknown, options: { modelsDir: string }): Hono {
  const app = new Hono();
  let document: string | undefined;
  app.get("/openapi.json", (c) => {
    document ??= JSON.stringify(openapi());
    c.header("cache-control", "public, max-age=300");
    return c.body(document, 200, { "content-type": "application/json" });
  });
  const files = assets(options.modelsDir);
  const cache = new Map<string, Uint8Array>();
  for (const [route, asset] of Object.entries(files)) {
    app.get(route, async (c) => {
      let bytes = cache.get(route);
      if (!bytes) {
        try {
          bytes = await Deno.readFile(asset.path);
        } catch (error) {
          // Only the map is optional (a models folder without it): the page then shows no map.
          if (error instanceof Deno.errors.NotFound) throw new ProblemError(404, `${route} is not deployed`);
          throw error;
        }
        cache.set(route, bytes);
      }
      // Pages change with a deployment: short reuse, so a new version shows within minutes.
      c.header("cache-control", "public, max-age=300");
      return c.body(bytes as Uint8Array<ArrayBuffer>, 200, { "content-type": asset.type });
    });
  }
  return app;
}
