/**
 * `OPEN_NAMESPACES` in workerd. The pool gives every runtime file one env (`*`, the default), so
 * the closed deployment is run by the real classes with that env changed: the edge Worker's fetch,
 * and an `EdgeReplica` built over a real Durable Object's state (SQLite, Ed25519) of its own — not
 * one the edge routes to, and its alarm deleted, so nothing it accepts reaches the shared replicas.
 */
import { createExecutionContext, env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { EdgeReplica } from "../../durable-objects/edge-replica.js";
import type { ClusterInfo } from "../../shared/cluster-config.js";
import { verifyErrorReply, verifyReply, type ErrorReply, type OpReply } from "../../shared/replies.js";
import type { RpcResult } from "../../shared/rpc/replica.js";
import worker from "../../workers/index.js";
import { TestClient } from "./helpers.js";

const call = (e: typeof env, path: string) =>
  worker.fetch(new Request(`https://edge.test${path}`), e, createExecutionContext());

const weurKey = async (): Promise<string> =>
  (
    (await (await call(env, "/v1/replicas")).json()) as { replicas: { name: string; publicKey: string }[] }
  ).replicas.find((r) => r.name === "weur")!.publicKey;

describe("OPEN_NAMESPACES", () => {
  it("GET /v1/cluster shows the list: '*' by default, [] when empty, names when listed", async () => {
    const open = (await (await call(env, "/v1/cluster")).json()) as ClusterInfo;
    expect(open.openNamespaces).toEqual(["*"]);
    const none = (await (await call({ ...env, OPEN_NAMESPACES: "" }, "/v1/cluster")).json()) as ClusterInfo;
    expect(none.openNamespaces).toEqual([]);
    expect(none.configDigest).not.toBe(open.configDigest);
    const some = (await (
      await call({ ...env, OPEN_NAMESPACES: "wallet,docs" }, "/v1/cluster")
    ).json()) as ClusterInfo;
    expect(some.openNamespaces).toEqual(["docs", "wallet"]);
  });

  it.each(["/v1/cluster", "/health"])(
    "a malformed list: %s is 503 not_configured naming the var and the fix",
    async (path) => {
      const res = await call({ ...env, OPEN_NAMESPACES: "wallet,,docs" }, path);
      expect(res.status).toBe(503);
      const { error } = (await res.json()) as { error: { code: string; message: string; details: unknown } };
      expect(error.code).toBe("not_configured");
      expect(error.message).toMatch(/^OPEN_NAMESPACES has an empty item/);
      expect(error.details).toMatchObject({ var: "OPEN_NAMESPACES" });
    },
  );

  it("a malformed list: a write is refused 503 before any replica sees it", async () => {
    const c = await TestClient.create();
    const res = await worker.fetch(
      new Request("https://edge.test/v1/ops?replica=weur", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(await c.sign("badlist/k", "counter", "add", { n: 1 })),
      }),
      { ...env, OPEN_NAMESPACES: "*,wallet" },
      createExecutionContext(),
    );
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_configured");
    // nothing written: the key is still unknown at the replica
    const read = (await (await call(env, "/v1/kv/badlist%2Fk?replica=weur")).json()) as {
      type: string | null;
    };
    expect(read.type).toBeNull();
  });

  it("empty: a write to an unclaimed namespace is refused not_authorized (signed, nothing written); a claim works, and then its owner writes", async () => {
    const closed = { ...env, OPEN_NAMESPACES: "" };
    const c = await TestClient.create();
    const write = await c.sign("closedns/k", "counter", "add", { n: 1 });
    const claim = await c.sign("@closedns", "namespace", "claim", {});
    const owned = await c.sign("closedns/k", "counter", "add", { n: 2 });
    const stub = env.EDGE_REPLICA.get(env.EDGE_REPLICA.idFromName("open-namespaces-closed"));
    const [refused, claimed, written, openReplica] = await runInDurableObject(stub, async (_self, state) => {
      const replica = new EdgeReplica(state, closed);
      const out: RpcResult<OpReply>[] = [];
      for (const op of [write, claim, owned]) out.push(await replica.submit("weur", op));
      // the same op at a replica of an open deployment is accepted: the list is what refused it
      const open = await new EdgeReplica(state, env).submit(
        "weur",
        await c.sign("closedns2/k", "counter", "add", { n: 1 }),
      );
      await state.storage.deleteAlarm();
      return [...out, open] as const;
    });
    expect(refused).toMatchObject({ ok: false, kind: "error", error: { code: "not_authorized" } });
    // the body the edge would send with its 403 (the RPC result less its `ok`), signed by weur
    const { ok: _ok, ...body } = refused as { ok: false } & ErrorReply;
    expect(await verifyErrorReply(await weurKey(), body)).toBe(true);
    expect(claimed).toMatchObject({ ok: true, value: { tentative: { status: "ok" } } });
    expect(written).toMatchObject({ ok: true, value: { tentative: { status: "ok", value: 2 } } });
    expect(await verifyReply(await weurKey(), (written as { value: OpReply }).value)).toBe(true);
    expect(openReplica).toMatchObject({ ok: true, value: { tentative: { status: "ok", value: 1 } } });
  });
});
