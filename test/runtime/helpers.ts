/** Helpers for in-runtime tests: sign real ops, call the real Worker, reach replicas' stubs. */
import { SELF, env } from "cloudflare:test";
import { generateKeyPair, type KeyPair } from "../../shared/crypto/keys.js";
import { signOp, type OpBody, type SignedOp } from "../../shared/ops.js";
import type { ReplicaRpc } from "../../shared/rpc/replica.js";
import { replicasOf } from "../../platform/routing.js";

export const REPLICAS = replicasOf(env.REPLICAS).map((r) => r.name);

/** A replica's own Durable Object stub (not the edge's deadline wrapper: `runInDurableObject` takes it too). */
export function stub(name: string): ReplicaRpc {
  const r = replicasOf(env.REPLICAS).find((x) => x.name === name)!;
  return env.EDGE_REPLICA.get(env.EDGE_REPLICA.idFromName(r.name)) as unknown as ReplicaRpc;
}

export class TestClient {
  seq = 0;
  private constructor(readonly key: KeyPair) {}
  static async create(): Promise<TestClient> {
    return new TestClient(await generateKeyPair());
  }
  sign(
    key: string,
    type: OpBody["type"],
    op: string,
    args: OpBody["args"],
    over: Partial<OpBody> = {},
  ): Promise<SignedOp> {
    return signOp(this.key.secret, {
      client: this.key.publicKey,
      seq: ++this.seq,
      key,
      type,
      op,
      args,
      ts: Date.now(),
      ...over,
    });
  }
}

export function post(body: unknown, replica = "weur", init: RequestInit = {}): Promise<Response> {
  return SELF.fetch(`https://edge.test/v1/ops?replica=${replica}`, {
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json" },
    ...init,
  });
}

export async function read(key: string, replica = "weur"): Promise<{ type: string | null; value: unknown }> {
  const r = await SELF.fetch(`https://edge.test/v1/kv/${encodeURIComponent(key)}?replica=${replica}`);
  return r.json();
}

/** Poll until `check` passes or the deadline expires (propagation is asynchronous by design). */
export async function eventually(check: () => Promise<void>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
