/**
 * The API's routes and the methods each answers: what `405 method_not_allowed` (with its `Allow`
 * header) is decided from, and what the OpenAPI document must cover. Paths are Hono patterns.
 */
export type Method = "GET" | "POST";

export interface Route {
  /** Hono pattern; `*` is the rest of the path (a kv key may contain `/`). */
  path: string;
  methods: readonly Method[];
}

export const ROUTES = [
  { path: "/", methods: ["GET"] },
  { path: "/health", methods: ["GET"] },
  { path: "/openapi.json", methods: ["GET"] },
  { path: "/v1/replicas", methods: ["GET"] },
  { path: "/v1/ops", methods: ["POST"] },
  { path: "/v1/ops/batch", methods: ["POST"] },
  { path: "/v1/ops/:id", methods: ["GET"] },
  { path: "/v1/kv", methods: ["GET"] },
  { path: "/v1/kv/*", methods: ["GET"] },
  { path: "/v1/clients/:client/evidence", methods: ["GET"] },
  { path: "/v1/namespaces", methods: ["GET"] },
  { path: "/v1/cluster", methods: ["GET"] },
  { path: "/v1/cluster/status", methods: ["GET"] },
  { path: "/v1/certificates/latest", methods: ["GET"] },
  { path: "/v1/certificates/:seq", methods: ["GET"] },
  { path: "/v1/evidence", methods: ["GET", "POST"] },
  { path: "/v1/evidence/:digest", methods: ["GET"] },
  { path: "/v1/admin/quarantine/:replica/lift", methods: ["POST"] },
] as const satisfies readonly Route[];

/**
 * Dev-only routes (ENVIRONMENT=dev and the `x-aspec-fault-token` header equal to FAULT_TOKEN). Not in
 * ROUTES: outside dev they answer exactly as an unknown path does (404, no 405, not in the OpenAPI
 * document), so they do not show that they exist. Listed here so the docs are checked against them.
 */
export const DEV_PATHS = { faults: "/v1/dev/faults", submit: "/v1/dev/submit" } as const;

/**
 * `POST /v1/dev/submit` (workers/dev-submit.ts), apart from DEV_PATHS so that the production bundle,
 * which mounts no faults route (platform/dev-faults/none.ts), does not even hold that route's path.
 */
export const DEV_SUBMIT_PATH = "/v1/dev/submit";

/** How docs and the JSON index write a route: `*` (the rest of the path, a kv key) as `:key`. */
export const routeLabel = (path: string): string => path.replace(/\*$/, ":key");

/**
 * The `Allow` header of a route. Hono answers HEAD with the GET handler (without the body), and
 * the CORS middleware answers OPTIONS, so those are allowed wherever GET is, and OPTIONS everywhere.
 */
export function allowHeader(route: Route): string {
  const methods: string[] = [...route.methods];
  if (methods.includes("GET")) methods.push("HEAD");
  methods.push("OPTIONS");
  return methods.join(", ");
}
