/**
 * Profiling variants of the baseline (bench/ec/profile.ts), each adding one piece of the real write
 * path to "Worker → SQLite DO insert":
 *   POST /store        the plain baseline
 *   POST /parse        + the edge's parseOp (zod schema, per-type args, canonical size check)
 *   POST /verify       + the DO's Ed25519 verification of the client signature
 *   POST /verify-sign  + the DO signing its reply with a replica key
 *   POST /sys-sql      EdgeReplica.submit's steps re-enacted with its own ReplicaStore (same SQL,
 *                      admission, decideOp, signed OpReply), but no alarm / outbox drain
 *   POST /sys-alarm    + scheduleDrain per write (getAlarm/setAlarm) and an alarm that drains the
 *                      outbox to a queue nobody consumes, as EdgeReplica.alarm does
 */
import { DurableObject } from "cloudflare:workers";
import { DOMAIN } from "../../shared/canonical.js";
import { devKeyPair, signCanonical, type KeyPair } from "../../shared/crypto/keys.js";
import { opIdOf, parseOp, verifyOp, type SignedOp } from "../../shared/ops.js";
import { admitOp } from "../../shared/admission.js";
import { decideOp } from "../../shared/materialize.js";
import { signReply, type OpReply } from "../../shared/replies.js";
import { packMessages, type ReplicateMessage, type ReplicatedOp } from "../../shared/replication.js";
import { ReplicaStore } from "../../durable-objects/storage/replica-store.js";

interface Env {
  STORE: DurableObjectNamespace<ProfileStore>;
  SYS: DurableObjectNamespace<SysLike>;
  Q: Queue<ReplicateMessage>;
}

/** EdgeReplica.submit's steps, copied for profiling: which part of the write path costs what. */
export class SysLike extends DurableObject<Env> {
  private readonly store: ReplicaStore;
  private key: Promise<KeyPair> | undefined;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.store = new ReplicaStore(ctx.storage.sql);
  }

  async submit(op: SignedOp, drain: boolean): Promise<OpReply> {
    if (this.store.getMeta("name") === undefined) this.store.setMeta("name", "weur");
    this.key ??= devKeyPair("bench-profile", "weur");
    const key = await this.key;
    if (!(await verifyOp(op))) throw new Error("bad signature");
    const opId = opIdOf(op);
    const now = Date.now();
    const outcome = this.ctx.storage.transactionSync(() => {
      const stored = this.store.getOp(opId);
      const admission = admitOp(op, stored?.op, this.store.clientMaxSeq(op.client), now);
      if (admission.kind === "duplicate") return { ...stored!, duplicate: true };
      const rec = this.store.getRecord(op.key);
      const d = decideOp(rec, op, { kind: "origin", stamp: { wall: now, logical: 0 } });
      const entry: ReplicatedOp = { op, status: d.status, effect: d.effect };
      if (d.reason) entry.reason = d.reason;
      if (d.record && d.record !== rec) this.store.putRecord(op.key, d.record);
      this.store.insertOp(opId, "weur", entry, d.value, this.store.nextOwnPos());
      this.store.noteClientSeq(op.client, op.seq, 1);
      return { status: d.status, reason: d.reason, value: d.value, duplicate: false };
    });
    if (drain && (await this.ctx.storage.getAlarm()) === null) await this.ctx.storage.setAlarm(Date.now());
    return signReply<OpReply>(key.secret, {
      kind: "op",
      opId,
      key: op.key,
      type: op.type,
      tentative: { status: outcome.status, value: outcome.value },
      replica: "weur",
      certificate: null,
      certification: "none",
      uncertified: this.store.clientPending(op.client),
      duplicate: outcome.duplicate,
      time: now,
    });
  }

  override async alarm(): Promise<void> {
    const sent = Number(this.store.getMeta("sent_pos") ?? "0");
    const rows = this.store.logs.page("weur", sent, 2000);
    if (rows.length === 0) return;
    const messages = packMessages("weur", rows);
    for (let i = 0; i < messages.length; i += 100)
      await this.env.Q.sendBatch(messages.slice(i, i + 100).map((body) => ({ body })));
    this.store.setMeta("sent_pos", String(sent + rows.length));
    if (rows.length === 2000) await this.ctx.storage.setAlarm(Date.now());
  }
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
    if (path === "/sys-sql" || path === "/sys-alarm") {
      // one DO per variant, so the sql-only variant's outbox never drains into the other's queue
      const sys = env.SYS.get(env.SYS.idFromName(path)) as unknown as {
        submit(op: SignedOp, drain: boolean): Promise<OpReply>;
      };
      return Response.json(await sys.submit(op, path === "/sys-alarm"));
    }
    return new Response("not found", { status: 404 });
  },
} satisfies ExportedHandler<Env>;
