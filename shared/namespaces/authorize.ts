/**
 * Who may write what: one pure decision, run by both deciders of an op, against the namespace
 * record each holds (shared/namespaces/names.ts has where it lives):
 *
 * - the origin replica (`submitOp`), tentatively, against its tentative record: an op it finds
 *   `not_authorized` is refused (403), nothing written; a claim of a namespace it holds as claimed
 *   is accepted as `rejected` (`namespace_taken`), as a withdraw that would overdraw is;
 * - the certified order (`executeOps`), finally: a denied op is certified `rejected` with that
 *   reason and its effect is not applied. So a write racing the revocation of its writer can be
 *   accepted at a replica that had not seen the revocation, then certified rejected: the SDK rolls
 *   it back, as for an overdraft.
 *
 * The rules: a `claim` needs an unclaimed namespace; `grant` and `revoke` need the client to be an
 * owner; a data op in a claimed namespace needs the client's role, or the role of `*` (everyone), to
 * allow it (roles.ts); a data op in an unclaimed namespace needs the policy to list it as open.
 */
import type { OpBody } from "../ops.js";
import type { KeyRecord } from "../materialize.js";
import { isClaimed, roleIn, type NamespaceState } from "../datatypes/namespace.js";
import { NAMESPACE_TYPE, namespaceOf, namespaceOfOp, namespaceRecordKey } from "./names.js";
import { isOpen, type NamespacePolicy } from "./policy.js";
import { EVERYONE, OWNER, roleAllows } from "./roles.js";

export type AuthzDenial = "not_authorized" | "namespace_taken";

/** The key of the namespace record that decides `op`: its own key for a namespace op. */
export const authorityKeyOf = (op: Pick<OpBody, "type" | "key">): string =>
  namespaceRecordKey(namespaceOfOp(op));

/**
 * Null if `op` may run, else why not. `ns`: the record at `authorityKeyOf(op)` as the decider holds
 * it (undefined: none, the namespace is unclaimed).
 */
export function authorize(
  ns: KeyRecord | undefined,
  op: Pick<OpBody, "client" | "type" | "key" | "op">,
  policy: NamespacePolicy,
): AuthzDenial | null {
  // Only namespace ops write `@` keys (ops.ts), so another type here is a record this code never made.
  const state: NamespaceState = ns?.type === NAMESPACE_TYPE ? (ns.state as NamespaceState) : {};
  if (op.type === NAMESPACE_TYPE) {
    if (op.op === "claim") return isClaimed(state) ? "namespace_taken" : null;
    return roleIn(state, op.client) === OWNER ? null : "not_authorized";
  }
  if (!isClaimed(state)) return isOpen(policy, namespaceOf(op.key)) ? null : "not_authorized";
  const mine = roleIn(state, op.client);
  const everyone = roleIn(state, EVERYONE);
  const allows = (r: string | undefined) => r !== undefined && roleAllows(r, op.type, op.op);
  return allows(mine) || allows(everyone) ? null : "not_authorized";
}
