/**
 * Benchmark baseline: a minimal Worker that hands the request body to one SQLite-backed Durable
 * Object (native RPC, like the real edge), which inserts it into a table and replies a small JSON.
 * `GET /` answers 200 for the readiness probe.
 */
import { DurableObject } from "cloudflare:workers";

interface Env {
  STORE: DurableObjectNamespace<BaselineStore>;
}

export class BaselineStore extends DurableObject<Env> {
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
}

export default {
  async fetch(req: Request, env: Env): Promise<Response> {
    if (req.method === "POST") {
      const stub = env.STORE.get(env.STORE.idFromName("baseline"));
      return Response.json(await stub.store(await req.text()));
    }
    return Response.json({ name: "aspec-bench-baseline" });
  },
} satisfies ExportedHandler<Env>;
