/**
 * `GET /v1/namespaces` in workerd (the dashboard's panel): the namespace records a replica holds,
 * with their members and roles, signed, in pages of at most 50 by name.
 */
import { SELF } from "cloudflare:test";
import { beforeAll, describe, expect, it } from "vitest";
import { NAMESPACES_LIST_MAX, verifyReply, type NamespacesReply } from "../../shared/replies.js";
import { post, TestClient } from "./helpers.js";

const get = (path: string) => SELF.fetch(`https://edge.test${path}`);
const list = async (after: string) =>
  (await (await get(`/v1/namespaces?replica=weur&after=${after}`)).json()) as NamespacesReply;

let owner: TestClient;
let other: TestClient;
beforeAll(async () => {
  owner = await TestClient.create();
  other = await TestClient.create();
  // 51 namespaces: one more than a page
  for (let i = 0; i <= NAMESPACES_LIST_MAX; i++) {
    const name = `nsl-${String(i).padStart(3, "0")}`;
    expect((await post(await owner.sign(`@${name}`, "namespace", "claim", {}))).status).toBe(200);
  }
  await post(
    await owner.sign("@nsl-000", "namespace", "grant", { publicKey: other.key.publicKey, role: "writer" }),
  );
  await post(await owner.sign("@nsl-000", "namespace", "grant", { publicKey: "*", role: "account.deposit" }));
});

describe("GET /v1/namespaces", () => {
  it("lists each namespace with its members and roles, signed by the replica", async () => {
    const r = await list("nsl-");
    expect(r.kind).toBe("namespaces");
    expect(r.namespaces[0]).toEqual({
      name: "nsl-000",
      members: { [owner.key.publicKey]: "owner", [other.key.publicKey]: "writer", "*": "account.deposit" },
    });
    expect(r.namespaces[1]).toEqual({ name: "nsl-001", members: { [owner.key.publicKey]: "owner" } });
    const keys = (await (await get("/v1/replicas")).json()) as {
      replicas: { name: string; publicKey: string }[];
    };
    expect(await verifyReply(keys.replicas.find((x) => x.name === "weur")!.publicKey, r)).toBe(true);
  });

  it("pages by name: at most 50, `next` continues where a page ended", async () => {
    const first = await list("nsl-");
    expect(first.namespaces).toHaveLength(NAMESPACES_LIST_MAX);
    expect(first.namespaces.at(-1)!.name).toBe("nsl-049");
    expect(first.next).toBe("nsl-049");
    const second = await list(first.next!);
    expect(second.namespaces[0]!.name).toBe("nsl-050");
    expect(second.namespaces.map((n) => n.name)).not.toContain("nsl-049");
  });

  it("a revoked member is left out", async () => {
    await post(
      await owner.sign("@nsl-001", "namespace", "grant", { publicKey: other.key.publicKey, role: "writer" }),
    );
    await post(await owner.sign("@nsl-001", "namespace", "revoke", { publicKey: other.key.publicKey }));
    expect((await list("nsl-000")).namespaces[0]).toEqual({
      name: "nsl-001",
      members: { [owner.key.publicKey]: "owner" },
    });
  });

  it("an `after` that is not a namespace name is 400 invalid_request", async () => {
    const res = await get("/v1/namespaces?after=%40x");
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("invalid_request");
  });
});
