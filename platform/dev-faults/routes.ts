/**
 * DEV ONLY: `POST /v1/dev/faults` — switch a replica's or a PBFT node's faults, for tests and demos.
 *
 * The gate (`faultInjectionAllowed`: ENVIRONMENT "dev" and the configured FAULT_TOKEN in the
 * `x-aspec-fault-token` header) is checked before anything else, the body included: refused, the
 * route answers exactly as an unknown route does (404 `not_found`) and changes nothing, so outside
 * dev it does not even show that it exists. It is not in ROUTES (no 405 for other methods, and not
 * in the OpenAPI document) for the same reason.
 *
 * Body `{target, faults}`: `target` is a replica name (REPLICAS) or a node id (`pbft-0..3`);
 * `faults` an object (`{}` switches everything off). A replica's faults are checked here
 * (./replica-faults.ts `parseFaults`); a node's go to its Durable Object as given,
 * which keeps the modes it knows (./node-faults.ts). Answers `{target, faults}` as stored.
 *
 * Mounted by `devFaults.mountRoutes` (./index.ts): production bundles ./none.ts, which mounts
 * nothing, so there the path answers as an unknown route by construction.
 */
import type { Context, Hono } from "hono";
import { parseNodeFaults } from "./node-faults.js";
import { parseFaults } from "./replica-faults.js";
import { PBFT_NODES } from "../../shared/cluster-config.js";
import { faultInjectionAllowed } from "../../shared/config.js";
import { AspecError } from "../../shared/errors.js";
import type { ReadJsonBody } from "../dev-faults-hook.js";
import type { Env } from "../env.js";
import { nodesOf } from "../pbft-node-stub.js";
import { replicaStub } from "../replica-stub.js";
import { replicasOf } from "../routing.js";

export const FAULTS_PATH = "/v1/dev/faults";
export const FAULT_TOKEN_HEADER = "x-aspec-fault-token";

/** A faults body is small: `{target, faults}` with a few flags. */
const BODY_BYTES_MAX = 4096;
const BODY_DEPTH_MAX = 4;

type AppContext = Context<{ Bindings: Env }>;

/** What app.ts's `notFound` answers, thrown so that `onError` renders it the same way. */
const notFound = (c: AppContext) => new AspecError("not_found", `no route for ${c.req.method} ${c.req.path}`);

async function readBody(
  c: AppContext,
  readJsonBody: ReadJsonBody,
): Promise<{ target: string; faults: Record<string, unknown> }> {
  const body = await readJsonBody(c, { bytes: BODY_BYTES_MAX, depth: BODY_DEPTH_MAX });
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === "object" && v !== null && !Array.isArray(v);
  if (!isObject(body) || typeof body.target !== "string" || !isObject(body.faults))
    throw new AspecError("invalid_request", "the body is `{target, faults}`: a target name and an object");
  const extra = Object.keys(body).filter((k) => k !== "target" && k !== "faults");
  if (extra.length > 0) throw new AspecError("invalid_request", `unknown field '${extra[0]}'`);
  return { target: body.target, faults: body.faults };
}

/** Mount the dev routes on the app (before its 405 and not-found handlers). */
export function mountFaultRoutes(app: Hono<{ Bindings: Env }>, readJsonBody: ReadJsonBody): void {
  app.post(FAULTS_PATH, async (c) => {
    const token = c.req.header(FAULT_TOKEN_HEADER);
    if (!faultInjectionAllowed(c.env, token)) throw notFound(c);
    const { target, faults } = await readBody(c, readJsonBody);
    const replica = replicasOf(c.env.REPLICAS).find((r) => r.name === target);
    if (replica) {
      const parsed = parseFaults(faults);
      if (!parsed.ok) throw new AspecError("invalid_request", parsed.reason);
      const stored = await replicaStub(c.env, replica).setFaults(replica.name, token!, parsed.faults);
      console.log({ event: "dev_faults_set", target, faults: stored });
      return c.json({ target, faults: stored });
    }
    const node = PBFT_NODES.find((n) => n.id === target);
    if (node) {
      const stub = nodesOf(c.env);
      await stub.setFaults(node.id, token!, parseNodeFaults(faults)); // the modes it knows
      const stored = (await stub.status(node.id)).faults;
      console.log({ event: "dev_faults_set", target, faults: stored });
      return c.json({ target, faults: stored });
    }
    const targets = [...replicasOf(c.env.REPLICAS).map((r) => r.name), ...PBFT_NODES.map((n) => n.id)];
    throw new AspecError("invalid_request", `no replica or PBFT node '${target}'`, { targets });
  });
}
