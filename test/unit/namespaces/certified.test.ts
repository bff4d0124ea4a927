/**
 * Who may write, decided finally: `executeOps` (what the PBFT nodes and every replica's certified
 * follower run) certifies a denied op `rejected` and applies nothing of it; the state root commits
 * to every grant; the op parser refuses namespace ops that break the key rules or carry bad args.
 */
import { describe, expect, it } from "vitest";
import { executeOps } from "../../../shared/certified/execute.js";
import { verifyStateProof } from "../../../shared/certified/proofs.js";
import { MerkleStateMachine } from "../../../shared/certified/state-machine.js";
import { isAspecError } from "../../../shared/errors.js";
import { valueOf, type KeyRecord } from "../../../shared/materialize.js";
import { NAMESPACE_MEMBERS_MAX } from "../../../shared/datatypes/namespace.js";
import type { NamespacePolicy } from "../../../shared/namespaces/policy.js";
import { parseOp, type SignedOp } from "../../../shared/ops.js";

const OWNER = "O".repeat(43);
const ALICE = "A".repeat(43);
const SIG = "s".repeat(86);
const seqs = new Map<string, number>();

function op(
  client: string,
  key: string,
  type: SignedOp["type"],
  name: string,
  args: SignedOp["args"],
): SignedOp {
  const seq = (seqs.get(client) ?? 0) + 1;
  seqs.set(client, seq);
  return { client, seq, key, type, op: name, args, ts: 0, sig: SIG };
}
const claim = (c: string, ns = "wallet") => op(c, `@${ns}`, "namespace", "claim", {});
const grant = (by: string, publicKey: string, role: string) =>
  op(by, "@wallet", "namespace", "grant", { publicKey, role });
const revoke = (by: string, publicKey: string) => op(by, "@wallet", "namespace", "revoke", { publicKey });
const deposit = (c: string, n = 5) => op(c, "wallet/alice", "account", "deposit", { n });

function run(ops: SignedOp[], policy?: NamespacePolicy) {
  const records = new Map<string, KeyRecord>();
  const store = {
    get: (k: string) => records.get(k),
    set: (k: string, r: KeyRecord) => void records.set(k, r),
  };
  const { results } = executeOps(store, ops, policy);
  const outcome = results.map((r) => (r.status === "ok" ? "ok" : r.reason));
  return { outcome, records, value: (k: string) => valueOf(records.get(k)) };
}

describe("executeOps decides who may write", () => {
  it("of two claims, the first in the order owns the namespace; the second is namespace_taken", () => {
    const r = run([claim(OWNER), claim(ALICE), deposit(ALICE)]);
    expect(r.outcome).toEqual(["ok", "namespace_taken", "not_authorized"]);
    expect(r.value("@wallet")).toEqual({ [OWNER]: "owner" });
    expect(r.value("wallet/alice")).toBeNull();
  });

  it("a stranger's write to an owned namespace is rejected and changes nothing; the owner's applies", () => {
    const r = run([claim(OWNER), deposit(OWNER, 7), deposit(ALICE, 5)]);
    expect(r.outcome).toEqual(["ok", "ok", "not_authorized"]);
    expect(r.value("wallet/alice")).toBe(7);
  });

  it("a grant by a non-owner is rejected and grants nothing", () => {
    const r = run([claim(OWNER), grant(ALICE, ALICE, "writer"), deposit(ALICE)]);
    expect(r.outcome).toEqual(["ok", "not_authorized", "not_authorized"]);
    expect(r.value("@wallet")).toEqual({ [OWNER]: "owner" });
  });

  it("a write after its writer's revocation in the order is rejected; before it, applied", () => {
    const r = run([
      claim(OWNER),
      grant(OWNER, ALICE, "writer"),
      deposit(ALICE, 3),
      revoke(OWNER, ALICE),
      deposit(ALICE, 4),
    ]);
    expect(r.outcome).toEqual(["ok", "ok", "ok", "ok", "not_authorized"]);
    expect(r.value("wallet/alice")).toBe(3);
    expect(r.value("@wallet")).toEqual({ [OWNER]: "owner" });
  });

  it("with no namespace open, an unclaimed one is written by no one, a claimed one by its owner", () => {
    const r = run([deposit(ALICE), claim(ALICE), deposit(ALICE)], { open: [] });
    expect(r.outcome).toEqual(["not_authorized", "ok", "ok"]);
  });

  it(`a record holds at most ${NAMESPACE_MEMBERS_MAX} members: a grant to one more is rejected namespace_full`, () => {
    const keys = Array.from({ length: NAMESPACE_MEMBERS_MAX }, (_, i) => `k${String(i).padStart(42, "0")}`);
    // the owner is a member: fill the rest, then one more
    const grants = keys.slice(0, NAMESPACE_MEMBERS_MAX - 1).map((k) => grant(OWNER, k, "writer"));
    const r = run([
      claim(OWNER),
      ...grants,
      grant(OWNER, keys.at(-1)!, "writer"),
      grant(OWNER, keys[0]!, "owner"),
    ]);
    expect(r.outcome.slice(-2)).toEqual(["namespace_full", "ok"]); // a member already held may change role
    expect(Object.keys(r.value("@wallet") as object)).toHaveLength(NAMESPACE_MEMBERS_MAX);
  });

  it("a revoke of a member the record does not hold changes nothing (no tombstone)", () => {
    const r = run([claim(OWNER), revoke(OWNER, ALICE)]);
    expect(r.outcome).toEqual(["ok", "ok"]);
    expect(r.records.get("@wallet")!.state).toEqual({ [OWNER]: expect.anything() });
  });

  it("the state root commits to grants: a grant alone changes it", () => {
    const a = new MerkleStateMachine();
    const b = new MerkleStateMachine();
    const c = claim(OWNER, "ns1");
    const ra = a.execute([c], 1);
    const rb = b.execute([c], 1);
    expect(ra.stateRoot).toEqual(rb.stateRoot);
    const g = op(OWNER, "@ns1", "namespace", "grant", { publicKey: ALICE, role: "writer" });
    const after = a.execute([g], 2).stateRoot;
    expect(after).not.toEqual(rb.stateRoot);
    // a read of the record is proved against the root like any key's
    const { value, proof } = a.proveKey("@ns1");
    expect(value?.value).toEqual({ [ALICE]: "writer", [OWNER]: "owner" });
    expect(verifyStateProof(after, "@ns1", value, proof)).toBe(true);
    expect(verifyStateProof(after, "@ns1", { ...value!, value: { [OWNER]: "owner" } }, proof)).toBe(false);
  });
});

describe("the op parser and namespace ops", () => {
  const code = (o: unknown): string => {
    try {
      parseOp(o);
      return "ok";
    } catch (e) {
      return isAspecError(e) ? e.code : "crash";
    }
  };
  it("accepts claim, grant and revoke at '@<name>'", () => {
    expect(code(claim(ALICE))).toBe("ok");
    expect(code(grant(ALICE, OWNER, "account.deposit"))).toBe("ok");
    expect(code(grant(ALICE, "*", "writer"))).toBe("ok");
    expect(code(revoke(ALICE, "*"))).toBe("ok");
  });
  it("a namespace name breaking the rules, or another type at '@…': invalid_namespace", () => {
    expect(code(op(ALICE, "wallet", "namespace", "claim", {}))).toBe("invalid_namespace");
    expect(code(op(ALICE, "@wal/let", "namespace", "claim", {}))).toBe("invalid_namespace");
    expect(code(op(ALICE, "@.x", "namespace", "claim", {}))).toBe("invalid_namespace");
    expect(code(op(ALICE, "@wallet", "counter", "add", { n: 1 }))).toBe("invalid_namespace");
  });
  it("a grant to a malformed public key, of an unknown role, or of owner to everyone: invalid_args", () => {
    expect(code(grant(ALICE, "not-a-key", "writer"))).toBe("invalid_args");
    expect(code(grant(ALICE, "A".repeat(42) + "=", "writer"))).toBe("invalid_args");
    expect(code(grant(ALICE, OWNER, "admin"))).toBe("invalid_args");
    expect(code(grant(ALICE, "*", "owner"))).toBe("invalid_args");
    expect(code(op(ALICE, "@wallet", "namespace", "claim", { x: 1 }))).toBe("invalid_args");
  });
});
