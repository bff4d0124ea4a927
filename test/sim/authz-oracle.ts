/**
 * Who may write, modelled again from the rules as docs/api.md states them ("Namespaces: who may
 * write"), not from shared/namespaces/: fed the certified order op by op with each op's certified
 * result, it says whether that result's authorization is right. The property it checks, in every
 * simulator that certifies: a client without a certified grant never has a certified write in a
 * namespace it does not own, and nothing authorized is refused as if it were not.
 *
 * - A key's namespace is its first `/`-segment; a namespace op names `@<namespace>`.
 * - `claim` needs an unclaimed namespace (one that never had a member), else `namespace_taken`;
 *   the claimer becomes its owner.
 * - `grant` / `revoke` need the client to be an owner, else `not_authorized`; a revoked member stays
 *   a member with no role (the namespace stays claimed).
 * - A data op in a claimed namespace needs the client's role, or the role of `*`, to be `owner`,
 *   `writer` or `<type>.<op>`; in an unclaimed one, the namespace to be open.
 */
import { opIdOf, type SignedOp } from "../../shared/ops.js";

export interface CertifiedOutcome {
  status: string;
  reason?: string;
}

const AUTHZ_REASONS = new Set(["not_authorized", "namespace_taken"]);

export class AuthzOracle {
  /** namespace → member → role (null: revoked). */
  private readonly namespaces = new Map<string, Map<string, string | null>>();
  checked = 0;

  constructor(private readonly isOpen: (namespace: string) => boolean = () => true) {}

  /** The next op of the certified order and its certified result: null if right, else what is wrong. */
  step(op: SignedOp, result: CertifiedOutcome): string | null {
    this.checked++;
    const isNs = op.type === "namespace";
    const name = isNs ? op.key.slice(1) : (op.key.split("/")[0] ?? op.key);
    const members = this.namespaces.get(name);
    const role = (m: string) => members?.get(m) ?? undefined;
    const allows = (r: string | undefined) => r === "owner" || r === "writer" || r === `${op.type}.${op.op}`;
    let denial: string | null;
    if (isNs && op.op === "claim") denial = members ? "namespace_taken" : null;
    else if (isNs) denial = role(op.client) === "owner" ? null : "not_authorized";
    else if (!members) denial = this.isOpen(name) ? null : "not_authorized";
    else denial = allows(role(op.client)) || allows(role("*")) ? null : "not_authorized";

    const id = opIdOf(op);
    if (denial !== null)
      return result.status === "rejected" && result.reason === denial
        ? null
        : `${id} (${op.type}.${op.op} at ${op.key}) must be certified rejected ${denial}: was ${result.status}${result.reason ? ` ${result.reason}` : ""}`;
    if (result.status === "rejected" && AUTHZ_REASONS.has(result.reason ?? ""))
      return `${id} (${op.type}.${op.op} at ${op.key}) was authorized, certified rejected ${result.reason}`;
    if (isNs && result.status === "ok") {
      const args = op.args as { publicKey?: string; role?: string };
      if (op.op === "claim") this.namespaces.set(name, new Map([[op.client, "owner"]]));
      else if (op.op === "grant") members!.set(args.publicKey!, args.role!);
      else if (members!.has(args.publicKey!)) members!.set(args.publicKey!, null);
    }
    return null;
  }
}
