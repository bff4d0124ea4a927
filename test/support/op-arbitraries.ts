/** fast-check arbitraries of one type's ops (`{op, args}`), shared by the property tests. */
import fc from "fast-check";
import type { OpBody } from "../../shared/ops.js";

export type OpArb = fc.Arbitrary<{ op: string; args: OpBody["args"] }>;

/** `ops` with deletes mixed in: one delete for every `weight` others. */
export const withDeletes = (ops: OpArb, weight: number): OpArb =>
  fc.oneof({ arbitrary: ops, weight }, { arbitrary: fc.constant({ op: "delete", args: {} }), weight: 1 });

/** A set's adds and removes over three elements. */
export const setOps: OpArb = fc
  .record({ op: fc.constantFrom("add", "remove"), x: fc.constantFrom("a", "b", "c") })
  .map(({ op, x }) => ({ op, args: { x } }));

/** Claims, grants and revokes naming `clients` or `*`. */
export const namespaceOps = (clients: readonly string[]): OpArb =>
  fc
    .record({
      op: fc.constantFrom("claim", "grant", "revoke"),
      publicKey: fc.constantFrom(...clients, "*"),
      role: fc.constantFrom("owner", "writer", "account.deposit"),
    })
    .map(({ op, publicKey, role }) => {
      const args: OpBody["args"] = op === "claim" ? {} : op === "grant" ? { publicKey, role } : { publicKey };
      return { op, args };
    });
