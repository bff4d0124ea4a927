/**
 * Profiling variants of the baseline (bench/ec/profile.ts), each adding one piece of the real write
 * path to "Worker → SQLite DO insert":
 *   POST /store        the plain baseline
 *   POST /parse        + the edge's parseOp (zod schema, per-type args, canonical size check)
 *   POST /verify       + the DO's Ed25519 verification of the client signature
 *   POST /verify-sign  + the DO signing its reply with a replica key
 */
import { DurableObject } from "cloudflare:workers";
import { DOMAIN } from "../../shared/canonical.js";
import { devKeyPair, signCanonical, type KeyPair } from "../../shared/crypto/keys.js";
import { opIdOf, parseOp, verifyOp, type SignedOp } from "../../shared/ops.js";

interface Env {
  STORE: DurableObjectNamespace<ProfileStore>;
}

export class ProfileStore extends DurableObject<Env> {
  private key: Promise<KeyPair> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS writes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL)",
    );
  }

  async store(body: string): Promise<{ ok: true; id: number; time: number }> {
    this.ctx.storage.sql.exec("INSERT INTO writes (body) VALUES (?)", body);
    const id = this.ctx.storage.sql.exec<{ id: number }>("SELECT last_insert_rowid() AS id").one().id;
    return { ok: true, id, time: Date.now() };
  }

  async storeOp(op: SignedOp, verify: boolean, sign: boolean): Promise<Record<string, unknown>> {
    if (verify && !(await verifyOp(op))) throw new Error("bad signature");
    this.ctx.storage.sql.exec("INSERT INTO writes (body) VALUES (?)", JSON.stringify(op));
    const reply: Record<string, unknown> = { opId: opIdOf(op), key: op.key, time: Date.now() };
    if (sign) {
      this.key ??= devKeyPair("bench-profile", "replica");
      reply.sig = await signCanonical((await this.key).secret, DOMAIN.replicaReply, reply);
    }
    return reply;
  }
}

export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    const stub = env.STORE.get(env.STORE.idFromName("profile"));
    const path = new URL(req.url).pathname;
    if (req.method !== "POST") return Response.json({ name: "aspec-bench-profile" });
    if (path === "/store") return Response.json(await stub.store(await req.text()));
    const op = parseOp(JSON.parse(await req.text()));
    if (path === "/parse") return Response.json(await stub.storeOp(op, false, false));
    if (path === "/verify") return Response.json(await stub.storeOp(op, true, false));
    if (path === "/verify-sign") return Response.json(await stub.storeOp(op, true, true));
    return new Response("not found", { status: 404 });
  },
} satisfies ExportedHandler<Env>;
