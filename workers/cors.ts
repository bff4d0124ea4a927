/**
 * CORS, so that pages on other origins can call the API from a browser (the SDK runs there too).
 *
 * Origins come from the `CORS_ORIGINS` variable: `*` for any origin, or a comma-separated list of
 * origins (`https://app.example.com,http://localhost:5173`); absent or empty, no origin but the
 * API's own. `*` gives a page nothing a script outside a browser doesn't have: the API uses no
 * cookies or other ambient credentials (every write is signed by its client, every reply by its
 * replica), so credentials are never allowed.
 */
import type { MiddlewareHandler } from "hono";
import { cors } from "hono/cors";
import { AspecError } from "../shared/errors.js";
import type { Env } from "../platform/env.js";
import { NONCE_HEADER } from "../shared/replies.js";
import { REPLICA_HEADER } from "../platform/routing.js";

/** How long a browser may cache a preflight's answer (s); browsers cap it lower (Chromium: 2 h). */
export const CORS_MAX_AGE_S = 86_400;

/** `*`, or the allowed origins. Throws `not_configured` for an entry that is not an origin. */
export function parseCorsOrigins(config: string | undefined): "*" | string[] {
  const text = (config ?? "").trim();
  if (text === "*") return "*";
  const origins = text
    .split(",")
    .map((o) => o.trim())
    .filter((o) => o !== "");
  for (const o of origins) {
    // Browsers send `Origin` as scheme://host[:port], nothing more: anything else would never match.
    let origin: string | undefined;
    try {
      origin = new URL(o).origin;
    } catch {
      origin = undefined;
    }
    if (origin !== o)
      throw new AspecError(
        "not_configured",
        `CORS_ORIGINS: '${o}' is not an origin (scheme://host[:port], no path): fix the variable in wrangler.jsonc`,
        { variable: "CORS_ORIGINS" },
      );
  }
  return origins;
}

const byConfig = new Map<string, MiddlewareHandler>();

function middlewareFor(config: string | undefined): MiddlewareHandler {
  const key = config ?? "";
  let m = byConfig.get(key);
  if (!m) {
    m = cors({
      origin: parseCorsOrigins(config),
      allowMethods: ["GET", "HEAD", "POST", "OPTIONS"],
      allowHeaders: ["Content-Type", REPLICA_HEADER, NONCE_HEADER],
      // `Allow` names the methods of a 405; the other headers a client reads are CORS-safelisted.
      exposeHeaders: ["Allow"],
      maxAge: CORS_MAX_AGE_S,
    });
    byConfig.set(key, m);
  }
  return m;
}

/** The CORS middleware for this request's environment (built once per `CORS_ORIGINS` value). */
export const corsFromEnv: MiddlewareHandler<{ Bindings: Env }> = (c, next) =>
  middlewareFor(c.env.CORS_ORIGINS)(c, next);
