/** The HTTP edge (Hono): validates once, routes to the home replica, renders every error one way. */
import { Hono, type Context } from "hono";
import { AspecError, ERROR_STATUS, isAspecError, type ErrorBody } from "../shared/errors.js";
import { OP_BYTES_MAX, parseOp } from "../shared/ops.js";
import type { RpcResult } from "../durable-objects/edge-replica.js";
import type { ErrorReply } from "../shared/replies.js";
import type { Env } from "./env.js";
import { replicaInfos } from "./keys.js";
import { replicaStub } from "./replica-stub.js";
import { REPLICA_HEADER, chooseReplica, replicasOf } from "./routing.js";

/** A request body larger than this is refused before it is parsed. */
export const BODY_BYTES_MAX = 2 * OP_BYTES_MAX;

type AppContext = Context<{ Bindings: Env }>;

function homeReplica(c: AppContext) {
  const replicas = replicasOf(c.env.REPLICAS);
  const explicit = c.req.query("replica") ?? c.req.header(REPLICA_HEADER);
  // request.cf is materialised on first access: read it only when it decides something
  const continent = explicit ? undefined : (c.req.raw.cf as { continent?: string } | undefined)?.continent;
  const r = chooseReplica(replicas, explicit, continent);
  return { replica: r, stub: replicaStub(c.env, r) };
}

/** A replica's refusal on its way to `onError`, which answers with the body as the replica signed it. */
class ReplicaRefusal extends Error {
  constructor(readonly body: ErrorReply | ErrorBody) {
    super(body.error.message);
    this.name = "ReplicaRefusal";
  }
}

function unwrap<T>(r: RpcResult<T>): T {
  if (r.ok) return r.value;
  const { ok: _ok, ...body } = r;
  throw new ReplicaRefusal(body);
}

async function readJsonBody(c: AppContext): Promise<unknown> {
  const declared = Number(c.req.header("content-length") ?? "0");
  if (declared > BODY_BYTES_MAX)
    throw new AspecError("payload_too_large", `body larger than ${BODY_BYTES_MAX} bytes`);
  const buf = await c.req.arrayBuffer();
  if (buf.byteLength > BODY_BYTES_MAX)
    throw new AspecError("payload_too_large", `body larger than ${BODY_BYTES_MAX} bytes`);
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(buf));
  } catch {
    throw new AspecError("malformed_json", "the body is not valid UTF-8 JSON");
  }
}

export function createApp() {
  const app = new Hono<{ Bindings: Env }>();

  app.get("/", (c) =>
    c.json({
      name: "aspec-edge",
      docs: "see README.md",
      endpoints: ["GET /v1/replicas", "POST /v1/ops", "GET /v1/kv/:key", "GET /v1/clients/:client/evidence"],
    }),
  );

  app.get("/v1/replicas", async (c) => c.json({ replicas: await replicaInfos(c.env) }));

  app.post("/v1/ops", async (c) => {
    const op = parseOp(await readJsonBody(c));
    await replicaInfos(c.env); // refuse writes early when keys are not configured
    const { replica, stub } = homeReplica(c);
    return c.json(unwrap(await stub.submit(replica.name, op)));
  });

  app.get("/v1/kv/:key{.+}", async (c) => {
    const key = c.req.param("key");
    const { replica, stub } = homeReplica(c);
    return c.json(unwrap(await stub.read(replica.name, key)));
  });

  app.get("/v1/clients/:client/evidence", async (c) => {
    const { replica, stub } = homeReplica(c);
    return c.json(unwrap(await stub.evidence(replica.name, c.req.param("client"))));
  });

  app.notFound((c) =>
    c.json(new AspecError("not_found", `no route for ${c.req.method} ${c.req.path}`).toBody(), 404),
  );

  app.onError((err, c) => {
    if (err instanceof ReplicaRefusal)
      return c.json(err.body, (ERROR_STATUS[err.body.error.code] ?? 500) as 400);
    if (isAspecError(err)) return c.json(err.toBody(), err.status as 400);
    console.log({ event: "internal_error", message: String(err), stack: (err as Error).stack });
    return c.json(new AspecError("internal", "internal error").toBody(), 500);
  });

  return app;
}
