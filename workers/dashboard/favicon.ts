/**
 * `GET /favicon.ico`: the dashboard's icon, an SVG (browsers ask for this path on their own, and the
 * page links it). Not an API route: not in ROUTES nor in the OpenAPI document, like any static asset.
 */
import type { Hono } from "hono";
import type { Env } from "../../platform/env.js";

export const FAVICON_PATH = "/favicon.ico";

/** A shield with a check mark: replicas answered, and checked. */
export const FAVICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32" width="32" height="32">
<path d="M16 2 4 6v9c0 7.5 5.1 13.2 12 15 6.9-1.8 12-7.5 12-15V6z" fill="#2a6fdb"/>
<path d="m10 16 4 4 8-9" fill="none" stroke="#fff" stroke-width="3" stroke-linecap="round" stroke-linejoin="round"/>
</svg>
`;

/** Mount the route on the edge app (before its 405 and not-found handlers). */
export function mountFavicon(app: Hono<{ Bindings: Env }>): void {
  app.get(FAVICON_PATH, (c) =>
    c.body(FAVICON_SVG, 200, {
      "content-type": "image/svg+xml",
      "cache-control": "public, max-age=86400",
    }),
  );
}
