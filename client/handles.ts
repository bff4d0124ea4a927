/**
 * Typed handles on one key: `client.counter("hits").add(1)`. Each method is one signed op; the
 * handle holds nothing but the key, so handles are free to create and to throw away.
 */
import type { Json } from "../shared/canonical.js";
import type { TypeName } from "../shared/datatypes/index.js";
import { namespaceRecordKey } from "../shared/namespaces/names.js";
import type { OpReply, ReadReply } from "../shared/replies.js";
import type { CertifiedOutcome } from "./certify.js";

/**
 * A submitted op: the replica's signed reply (its tentative result, at once) and `certified`, a
 * promise of the op's verified certified outcome (non-enumerable: the JSON is the reply as signed).
 */
export type SubmittedOp = OpReply & { readonly certified: Promise<CertifiedOutcome> };

/** What a handle needs from the client. */
export interface OpSink {
  submit(key: string, type: TypeName, op: string, args: { [k: string]: Json }): Promise<SubmittedOp>;
  get(key: string): Promise<ReadReply>;
}

interface Handle {
  readonly key: string;
  /** Read this key at the home replica. */
  get(): Promise<ReadReply>;
  /**
   * Delete the key (docs/api.md, "Deleting a key": what each type's delete removes). A read
   * afterwards answers as for a never-written key (`type` and `value` null); once certified, a
   * certified read proves its absence.
   */
  delete(): Promise<SubmittedOp>;
}

/** A PN-counter: `add(n)` with any integer n (negative to subtract). */
export interface CounterHandle extends Handle {
  add(n: number): Promise<SubmittedOp>;
}
/** A last-writer-wins register holding any JSON value. */
export interface RegisterHandle extends Handle {
  set(value: Json): Promise<SubmittedOp>;
  /**
   * Compare-and-set: write `value` only if the register holds `expected` (`null`: absent),
   * compared as canonical JSON. Decided like a withdraw: by the home replica's state now (a mismatch
   * is answered `tentative.status === "rejected"`, reason `cas_failed`), and finally by the
   * certified order, where a CAS that lost a race is certified `rejected` and emits `rollback`.
   */
  // `const w = await c.register("doc").cas({ rev: 1 }, { rev: 2 })`: `w.tentative`, then `await w.certified`
  cas(expected: Json, value: Json): Promise<SubmittedOp>;
}
/** An observed-remove set of strings. */
export interface SetHandle extends Handle {
  add(x: string): Promise<SubmittedOp>;
  remove(x: string): Promise<SubmittedOp>;
}
/**
 * A balance that never goes below 0. A withdraw is decided against the home replica's state: its
 * reply may say `tentative.status === "rejected"` (reason `insufficient_funds`). A delete likewise
 * only at balance 0 (else rejected, reason `not_empty`).
 */
export interface AccountHandle extends Handle {
  // `const w = await c.account("alice").withdraw(7)`: `w.tentative` now, `await w.certified` later
  deposit(n: number): Promise<SubmittedOp>;
  withdraw(n: number): Promise<SubmittedOp>;
}

export const counterHandle = (c: OpSink, key: string): CounterHandle => ({
  key,
  get: () => c.get(key),
  add: (n) => c.submit(key, "counter", "add", { n }),
  delete: () => c.submit(key, "counter", "delete", {}),
});

export const registerHandle = (c: OpSink, key: string): RegisterHandle => ({
  key,
  get: () => c.get(key),
  set: (v) => c.submit(key, "register", "set", { v }),
  cas: (expected, v) => c.submit(key, "register", "cas", { expected, v }),
  delete: () => c.submit(key, "register", "delete", {}),
});

export const setHandle = (c: OpSink, key: string): SetHandle => ({
  key,
  get: () => c.get(key),
  add: (x) => c.submit(key, "set", "add", { x }),
  remove: (x) => c.submit(key, "set", "remove", { x }),
  delete: () => c.submit(key, "set", "delete", {}),
});

export const accountHandle = (c: OpSink, key: string): AccountHandle => ({
  key,
  get: () => c.get(key),
  deposit: (n) => c.submit(key, "account", "deposit", { n }),
  withdraw: (n) => c.submit(key, "account", "withdraw", { n }),
  delete: () => c.submit(key, "account", "delete", {}),
});

/**
 * A namespace (the keys `<name>` and `<name>/…`): its record at `@<name>` says who may write there.
 * `claim()` makes this client its owner if no one claimed it first (else `rejected`,
 * `namespace_taken`, tentatively or at certification: a `rollback`); an owner grants a role
 * (`owner`, `writer`, or one op such as `account.deposit`) to a public key or `*` (everyone), and
 * revokes it. A write the namespace does not allow is refused `403 not_authorized`.
 */
export interface NamespaceHandle {
  readonly name: string;
  /** The record's key, `@<name>`. */
  readonly key: string;
  /** Read the record at the home replica: its value maps members to roles. */
  get(): Promise<ReadReply>;
  claim(): Promise<SubmittedOp>;
  grant(publicKey: string, role: string): Promise<SubmittedOp>;
  revoke(publicKey: string): Promise<SubmittedOp>;
}

export const namespaceHandle = (c: OpSink, name: string): NamespaceHandle => {
  const key = namespaceRecordKey(name);
  return {
    name,
    key,
    get: () => c.get(key),
    claim: () => c.submit(key, "namespace", "claim", {}),
    grant: (publicKey, role) => c.submit(key, "namespace", "grant", { publicKey, role }),
    revoke: (publicKey) => c.submit(key, "namespace", "revoke", { publicKey }),
  };
};
