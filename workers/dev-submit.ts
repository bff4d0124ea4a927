/**
 * DEV ONLY: `POST /v1/dev/submit` hands an array of client-signed ops straight to the four PBFT
 * nodes, through the path the replicate-queue consumer uses (`submitToNodes`), without any replica:
 * the benchmark of the cluster alone (bench/cluster). Gated exactly like fault injection
 * (`faultInjectionAllowed`: ENVIRONMENT=dev and the `x-aspec-fault-token` header equal to
 * FAULT_TOKEN); otherwise it answers as an unknown route (404 `not_found`) and touches nothing.
 *
 * Each op is parsed by the one op parser (`parseOp`); the nodes verify the signatures themselves,
 * as they do for the queue. The reply says, per node, how many ops it admitted, refused (invalid) and
 * refused as busy (its pool full).
 */
import type { Context, Hono } from "hono";
import { faultInjectionAllowed } from "../shared/config.js";
import { AspecError } from "../shared/errors.js";
import { ARGS_DEPTH_MAX, parseOp, type SignedOp } from "../shared/ops.js";
import { PBFT_NODES } from "../shared/cluster-config.js";
import type { Env } from "../platform/env.js";
import { submitToNodes } from "../platform/pbft-node-stub.js";
import { readJsonBody } from "./json-body.js";
import { DEV_SUBMIT_PATH } from "./routes.js";

/** What one request may carry (a node's `submit` takes at most 5,000 ops per call). */
export const DEV_SUBMIT_OPS_MAX = 5_000;
export const DEV_SUBMIT_BYTES_MAX = 8 * 1024 * 1024;

type AppContext = Context<{ Bindings: Env }>;

const notFound = (c: AppContext) =>
  c.json(new AspecError("not_found", `no route for ${c.req.method} ${c.req.path}`).toBody(), 404);

async function readOps(c: AppContext): Promise<SignedOp[]> {
  // an array of ops: one level more than an op's body
  const raw = await readJsonBody(c, {
    bytes: DEV_SUBMIT_BYTES_MAX,
    depth: ARGS_DEPTH_MAX + 2,
    tooDeep: "invalid_args",
  });
  if (!Array.isArray(raw) || raw.length === 0 || raw.length > DEV_SUBMIT_OPS_MAX)
    throw new AspecError("invalid_request", `the body is an array of 1 to ${DEV_SUBMIT_OPS_MAX} signed ops`);
  return raw.map((op, i) => {
    try {
      return parseOp(op);
    } catch (e) {
      if (e instanceof AspecError) throw new AspecError(e.code, `op ${i}: ${e.message}`, e.details);
      throw e;
    }
  });
}

/** Mount the route (workers/app.ts, before its not-found handler). */
export function mountDevSubmit(app: Hono<{ Bindings: Env }>): void {
  app.post(DEV_SUBMIT_PATH, async (c) => {
    if (!faultInjectionAllowed(c.env, c.req.header("x-aspec-fault-token"))) return notFound(c);
    const ops = await readOps(c);
    // the calls still running once n − f answered reach their nodes after the reply
    const answers = await submitToNodes(c.env, ops, (calls) => c.executionCtx.waitUntil(calls));
    return c.json({
      ops: ops.length,
      nodes: answers.map((a, i) =>
        a.status === "fulfilled"
          ? { id: PBFT_NODES[i]!.id, ...a.value }
          : { id: PBFT_NODES[i]!.id, error: String(a.reason) },
      ),
    });
  });
}
