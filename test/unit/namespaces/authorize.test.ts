/**
 * `authorize`, rule by rule, over namespace records built by the namespace data type itself (decided
 * and applied as the certified order does), and the key rules it rests on (names.ts).
 */
import { describe, expect, it } from "vitest";
import { DATA_TYPES } from "../../../shared/datatypes/index.js";
import { CERTIFIED_ORDER, decideOp, type KeyRecord } from "../../../shared/materialize.js";
import { authorize, authorityKeyOf } from "../../../shared/namespaces/authorize.js";
import { namespaceKeyProblem, namespaceOf } from "../../../shared/namespaces/names.js";
import { NAMESPACE_POLICY, type NamespacePolicy } from "../../../shared/namespaces/policy.js";
import { OP_RIGHTS } from "../../../shared/namespaces/roles.js";
import type { OpBody } from "../../../shared/ops.js";

const OWNER = "O".repeat(43);
const ALICE = "A".repeat(43);
const BOB = "B".repeat(43);
const CLOSED: NamespacePolicy = { open: [] };
let seq = 0;

const op = (client: string, type: OpBody["type"], name: string, args: OpBody["args"], key = "wallet/x") => ({
  client,
  seq: ++seq,
  key: type === "namespace" ? "@wallet" : key,
  type,
  op: name,
  args,
  ts: 0,
});

/** The `@wallet` record after `ops`, each decided and applied in order (as certified). */
function record(...ops: OpBody[]): KeyRecord | undefined {
  let rec: KeyRecord | undefined;
  for (const o of ops) rec = decideOp(rec, o, CERTIFIED_ORDER).record;
  return rec;
}
const claim = (c: string) => op(c, "namespace", "claim", {});
const grant = (by: string, publicKey: string, role: string) =>
  op(by, "namespace", "grant", { publicKey, role });
const revoke = (by: string, publicKey: string) => op(by, "namespace", "revoke", { publicKey });
const deposit = (c: string, key?: string) => op(c, "account", "deposit", { n: 1 }, key);
const withdraw = (c: string) => op(c, "account", "withdraw", { n: 1 });

describe("namespaces: keys", () => {
  it("a key's namespace is its first path segment; a key without '/' is its own", () => {
    expect(namespaceOf("wallet/alice")).toBe("wallet");
    expect(namespaceOf("wallet/a/b")).toBe("wallet");
    expect(namespaceOf("hits")).toBe("hits");
    expect(namespaceOf("/x")).toBe("");
  });

  it("an op is decided by the record at '@<namespace>': its key's, or the one a namespace op names", () => {
    expect(authorityKeyOf({ type: "counter", key: "wallet/alice" })).toBe("@wallet");
    expect(authorityKeyOf({ type: "counter", key: "hits" })).toBe("@hits");
    expect(authorityKeyOf({ type: "namespace", key: "@wallet" })).toBe("@wallet");
  });

  it("namespace ops name '@<valid name>' only, and no other type names a key starting with '@'", () => {
    expect(namespaceKeyProblem("namespace", "@wallet")).toBeNull();
    expect(namespaceKeyProblem("namespace", "@my.ns_2-b")).toBeNull();
    expect(namespaceKeyProblem("namespace", "wallet")).toMatch(/'@<namespace>'/);
    expect(namespaceKeyProblem("namespace", "@wal/let")).toMatch(/not 1-64 letters/);
    expect(namespaceKeyProblem("namespace", "@")).toMatch(/not 1-64 letters/);
    expect(namespaceKeyProblem("namespace", "@-x")).toMatch(/not 1-64 letters/);
    expect(namespaceKeyProblem("namespace", "@" + "n".repeat(65))).toMatch(/not 1-64 letters/);
    expect(namespaceKeyProblem("counter", "@wallet")).toMatch(/hold namespace records/);
    expect(namespaceKeyProblem("counter", "wallet/@x")).toBeNull();
  });

  it("the per-op roles are exactly the data types' ops", () => {
    const ops = Object.entries(DATA_TYPES)
      .filter(([t]) => t !== "namespace")
      .flatMap(([t, d]) => Object.keys(d.args).map((o) => `${t}.${o}`));
    expect([...OP_RIGHTS].sort()).toEqual(ops.sort());
  });
});

describe("authorize: namespace ops", () => {
  it("claim: allowed while unclaimed, namespace_taken once claimed (even by the same client)", () => {
    expect(authorize(undefined, claim(ALICE), CLOSED)).toBeNull();
    const rec = record(claim(OWNER));
    expect(authorize(rec, claim(ALICE), NAMESPACE_POLICY)).toBe("namespace_taken");
    expect(authorize(rec, claim(OWNER), NAMESPACE_POLICY)).toBe("namespace_taken");
  });

  it("a namespace whose owners all left stays claimed", () => {
    const rec = record(claim(OWNER), revoke(OWNER, OWNER));
    expect(authorize(rec, claim(ALICE), NAMESPACE_POLICY)).toBe("namespace_taken");
    expect(authorize(rec, grant(OWNER, ALICE, "writer"), NAMESPACE_POLICY)).toBe("not_authorized");
  });

  it("grant and revoke: an owner only (not a writer, not a stranger, not before a claim)", () => {
    const rec = record(claim(OWNER), grant(OWNER, ALICE, "writer"));
    expect(authorize(rec, grant(OWNER, BOB, "writer"), CLOSED)).toBeNull();
    expect(authorize(rec, revoke(OWNER, ALICE), CLOSED)).toBeNull();
    expect(authorize(rec, grant(ALICE, BOB, "writer"), NAMESPACE_POLICY)).toBe("not_authorized");
    expect(authorize(rec, revoke(BOB, ALICE), NAMESPACE_POLICY)).toBe("not_authorized");
    expect(authorize(undefined, grant(ALICE, ALICE, "owner"), NAMESPACE_POLICY)).toBe("not_authorized");
  });

  it("an owner granted by an owner may grant; a revoked owner may not", () => {
    const rec = record(claim(OWNER), grant(OWNER, ALICE, "owner"));
    expect(authorize(rec, grant(ALICE, BOB, "writer"), CLOSED)).toBeNull();
    const after = record(claim(OWNER), grant(OWNER, ALICE, "owner"), revoke(OWNER, ALICE));
    expect(authorize(after, grant(ALICE, BOB, "writer"), CLOSED)).toBe("not_authorized");
  });
});

describe("authorize: data ops", () => {
  it("an unclaimed namespace: anyone if the policy opens it ('*' or its name), else no one", () => {
    expect(authorize(undefined, deposit(ALICE), { open: ["*"] })).toBeNull();
    expect(authorize(undefined, deposit(ALICE), { open: ["wallet"] })).toBeNull();
    expect(authorize(undefined, deposit(ALICE), { open: ["other"] })).toBe("not_authorized");
    expect(authorize(undefined, deposit(ALICE), CLOSED)).toBe("not_authorized");
  });

  it("a claimed namespace is closed to strangers whatever the policy", () => {
    const rec = record(claim(OWNER));
    expect(authorize(rec, deposit(ALICE), { open: ["*"] })).toBe("not_authorized");
    expect(authorize(rec, deposit(ALICE), { open: ["wallet"] })).toBe("not_authorized");
    expect(authorize(rec, deposit(OWNER), CLOSED)).toBeNull();
  });

  it("writer: every data op; a revoked writer: none", () => {
    const rec = record(claim(OWNER), grant(OWNER, ALICE, "writer"));
    expect(authorize(rec, deposit(ALICE), CLOSED)).toBeNull();
    expect(authorize(rec, withdraw(ALICE), CLOSED)).toBeNull();
    expect(authorize(rec, op(ALICE, "register", "set", { v: 1 }), CLOSED)).toBeNull();
    const revoked = record(claim(OWNER), grant(OWNER, ALICE, "writer"), revoke(OWNER, ALICE));
    expect(authorize(revoked, deposit(ALICE), NAMESPACE_POLICY)).toBe("not_authorized");
  });

  it("a per-op role allows that op alone", () => {
    const rec = record(claim(OWNER), grant(OWNER, ALICE, "account.deposit"));
    expect(authorize(rec, deposit(ALICE), CLOSED)).toBeNull();
    expect(authorize(rec, withdraw(ALICE), CLOSED)).toBe("not_authorized");
    expect(authorize(rec, op(ALICE, "counter", "add", { n: 1 }), CLOSED)).toBe("not_authorized");
  });

  it("delete is a write like any other: its own right per type, in writer and owner, refused to strangers", () => {
    const del = (c: string, type: OpBody["type"]) => op(c, type, "delete", {});
    const rec = record(
      claim(OWNER),
      grant(OWNER, ALICE, "register.delete"),
      grant(OWNER, BOB, "register.set"),
    );
    expect(authorize(rec, del(ALICE, "register"), CLOSED)).toBeNull();
    expect(authorize(rec, op(ALICE, "register", "set", { v: 1 }), CLOSED)).toBe("not_authorized");
    expect(authorize(rec, del(ALICE, "counter"), CLOSED)).toBe("not_authorized");
    expect(authorize(rec, del(BOB, "register"), CLOSED)).toBe("not_authorized");
    expect(authorize(rec, del(OWNER, "account"), CLOSED)).toBeNull();
    const writer = record(claim(OWNER), grant(OWNER, ALICE, "writer"));
    expect(authorize(writer, del(ALICE, "set"), CLOSED)).toBeNull();
    expect(authorize(writer, del(BOB, "set"), NAMESPACE_POLICY)).toBe("not_authorized");
  });

  it("'*' (everyone) may deposit, only the owner withdraws; a member's own role adds to it", () => {
    const rec = record(claim(OWNER), grant(OWNER, "*", "account.deposit"), grant(OWNER, ALICE, "writer"));
    expect(authorize(rec, deposit(BOB), CLOSED)).toBeNull();
    expect(authorize(rec, withdraw(BOB), CLOSED)).toBe("not_authorized");
    expect(authorize(rec, withdraw(ALICE), CLOSED)).toBeNull();
    expect(authorize(rec, withdraw(OWNER), CLOSED)).toBeNull();
  });

  it("a later grant replaces a member's role", () => {
    const rec = record(claim(OWNER), grant(OWNER, ALICE, "writer"), grant(OWNER, ALICE, "account.deposit"));
    expect(authorize(rec, withdraw(ALICE), CLOSED)).toBe("not_authorized");
  });

  it("the namespace is the key's first segment: another namespace's grants do not count", () => {
    const rec = record(claim(OWNER), grant(OWNER, ALICE, "writer"));
    // `rec` is wallet's record; a key in `walletx` is decided by its own (absent) one
    expect(authorityKeyOf(deposit(ALICE, "walletx/a"))).toBe("@walletx");
    expect(authorize(rec, deposit(ALICE, "wallet"), CLOSED)).toBeNull();
  });
});
