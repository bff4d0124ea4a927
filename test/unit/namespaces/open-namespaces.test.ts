/**
 * `OPEN_NAMESPACES`, the deployment's open-namespace list: one strict parser, and a field of the
 * cluster configuration whose digest (which names certificates and which clients pin) commits to it.
 */
import { recordStoreOver } from "../../../shared/certified/record-store.js";
import { describe, expect, it } from "vitest";
import { executeOps } from "../../../shared/certified/execute.js";
import { MerkleStateMachine } from "../../../shared/certified/state-machine.js";
import { configDigest, resolveCluster } from "../../../shared/cluster-config.js";
import type { KeyRecord } from "../../../shared/materialize.js";
import { parseOpenNamespaces, policyOf } from "../../../shared/namespaces/policy.js";
import type { SignedOp } from "../../../shared/ops.js";
import { checkCluster } from "../../../client/cluster.js";

const DEV = { ENVIRONMENT: "dev", DEV_SEED: "open-namespaces-seed" };
const A = "A".repeat(43);
const op = (seq: number, key: string, type: string, name: string, args: object): SignedOp =>
  ({ client: A, seq, key, type, op: name, args, ts: 1, sig: "s".repeat(86) }) as SignedOp;

describe("parseOpenNamespaces", () => {
  it("'*' and unset: every unclaimed namespace", () => {
    expect(parseOpenNamespaces("*")).toEqual(["*"]);
    expect(parseOpenNamespaces(" * ")).toEqual(["*"]);
    expect(parseOpenNamespaces(undefined)).toEqual(["*"]);
  });

  it("a list: those names, sorted (spaces around commas allowed)", () => {
    expect(parseOpenNamespaces("wallet")).toEqual(["wallet"]);
    expect(parseOpenNamespaces("wallet, docs,hits")).toEqual(["docs", "hits", "wallet"]);
  });

  it("empty: none", () => {
    expect(parseOpenNamespaces("")).toEqual([]);
    expect(parseOpenNamespaces("   ")).toEqual([]);
  });

  it.each([
    ["a,,b", /empty item/],
    ["a,", /empty item/],
    ["*,wallet", /'\*'.*beside names/],
    ["wal let", /'wal let' is not a namespace name/],
    ["-x", /'-x' is not a namespace name/],
    ["@wallet", /is not a namespace name/],
    ["a/b", /is not a namespace name/],
    ["n".repeat(65), /is not a namespace name/],
    ["a,b,a", /lists 'a' twice/],
  ])("%j is refused not_configured, naming the var and the fix", (raw, why) => {
    let err: unknown;
    try {
      parseOpenNamespaces(raw);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: "not_configured", details: { var: "OPEN_NAMESPACES" } });
    expect((err as Error).message).toMatch(why);
    expect((err as Error).message).toMatch(/^OPEN_NAMESPACES /);
  });
});

describe("the open list in the cluster configuration", () => {
  it("the default '*' leaves the config (and its digest) as without the list; another list changes the digest", async () => {
    const unset = await resolveCluster(DEV);
    const star = await resolveCluster({ ...DEV, OPEN_NAMESPACES: "*" });
    const none = await resolveCluster({ ...DEV, OPEN_NAMESPACES: "" });
    const some = await resolveCluster({ ...DEV, OPEN_NAMESPACES: "wallet,docs" });
    const same = await resolveCluster({ ...DEV, OPEN_NAMESPACES: "docs, wallet" });
    expect(star.config).toEqual(unset.config);
    expect(star.config.openNamespaces).toBeUndefined();
    expect(star.info.configDigest).toBe(unset.info.configDigest);
    expect(none.config.openNamespaces).toEqual([]);
    expect(some.config.openNamespaces).toEqual(["docs", "wallet"]);
    const digests = new Set([star, none, some].map((r) => r.info.configDigest));
    expect(digests.size).toBe(3);
    expect(same.info.configDigest).toBe(some.info.configDigest);
    for (const r of [star, none, some]) expect(r.info.configDigest).toBe(configDigest(r.config));
  });

  it("GET /v1/cluster's info shows the list, and a client checks its digest against it", async () => {
    const none = await resolveCluster({ ...DEV, OPEN_NAMESPACES: "" });
    const star = await resolveCluster(DEV);
    expect(none.info.openNamespaces).toEqual([]);
    expect(star.info.openNamespaces).toEqual(["*"]);
    expect(checkCluster(none.info).config).toEqual(none.config);
    expect(checkCluster(star.info).config).toEqual(star.config);
    // a published list that is not the one the digest commits to is refused
    expect(() => checkCluster({ ...none.info, openNamespaces: ["*"] })).toThrow(/configDigest/);
    expect(() => checkCluster({ ...star.info, openNamespaces: ["b", "a"] })).toThrow(/sorted/);
    // an older server that publishes no list: read as '*'
    const { openNamespaces: _o, ...older } = star.info;
    expect(checkCluster(older).config).toEqual(star.config);
  });

  it("a malformed OPEN_NAMESPACES: the cluster does not resolve (the Worker refuses to serve)", async () => {
    await expect(resolveCluster({ ...DEV, OPEN_NAMESPACES: "a,,b" })).rejects.toMatchObject({
      code: "not_configured",
    });
  });

  it("the certified order runs the configuration's list: an unclaimed namespace write is rejected when it is closed", async () => {
    const ops = [op(1, "hits", "counter", "add", { n: 1 }), op(2, "@mine", "namespace", "claim", {})];
    const run = async (raw: string) => {
      const { config } = await resolveCluster({ ...DEV, OPEN_NAMESPACES: raw });
      const map = new Map<string, KeyRecord>();
      const direct = executeOps(recordStoreOver(map), ops, policyOf(config));
      const sm = new MerkleStateMachine();
      const viaMachine = sm.execute(ops, 1, policyOf(config));
      return [direct.results, viaMachine.results].map((rs) => rs.map((r) => `${r.status}:${r.reason ?? ""}`));
    };
    expect(await run("*")).toEqual([
      ["ok:", "ok:"],
      ["ok:", "ok:"],
    ]);
    expect(await run("hits")).toEqual([
      ["ok:", "ok:"],
      ["ok:", "ok:"],
    ]);
    // closed: the write is rejected, a claim still works
    expect(await run("")).toEqual([
      ["rejected:not_authorized", "ok:"],
      ["rejected:not_authorized", "ok:"],
    ]);
    expect(await run("wallet")).toEqual([
      ["rejected:not_authorized", "ok:"],
      ["rejected:not_authorized", "ok:"],
    ]);
  });
});
