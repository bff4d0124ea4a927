/**
 * A replica as the property tests drive it: the pure replica core over the memory store, submitting
 * ops and taking everything another one accepted as one queue message. Signatures are the host's
 * business (it verifies before stepping the core), so every entry counts as verified, and nothing is
 * certified while replicas exchange ops (the tests run the certified order apart, with `executeOps`).
 */
import { HLC_ZERO, type Hlc } from "../../shared/hlc.js";
import { NAMESPACE_POLICY, type NamespacePolicy } from "../../shared/namespaces/policy.js";
import { opIdOf, type SignedOp } from "../../shared/ops.js";
import { applyEntries, screenEntries, type ApplyResult } from "../../shared/replica/apply.js";
import { MemoryReplicaStore } from "../../shared/replica/memory-store.js";
import { submitOp, type SubmitResult } from "../../shared/replica/submit.js";

/** The clock every op is stepped at. */
export const CORE_NOW = 1_700_000_000_000;

export class CoreReplica {
  readonly store = new MemoryReplicaStore();
  hlc: Hlc = HLC_ZERO;
  /** This replica's accepted ops, as entry texts, in its log order. */
  readonly log: string[] = [];
  /** Op ids the certified order holds already (their certificate came before the op). */
  readonly certified = new Set<string>();

  constructor(
    readonly name: string,
    readonly policy: NamespacePolicy = NAMESPACE_POLICY,
  ) {}

  submit(op: SignedOp): SubmitResult {
    const r = this.store.transaction(() =>
      submitOp(this.store, {
        op,
        me: this.name,
        nowMs: CORE_NOW,
        hlc: this.hlc,
        isCertified: (o) => this.certified.has(opIdOf(o)),
        policy: this.policy,
      }),
    );
    if (r.kind === "accepted" && !r.outcome.duplicate) {
      this.hlc = r.hlc;
      this.log.push(this.store.entryOf(opIdOf(op))!);
    }
    return r;
  }

  /** Everything `from` accepted so far, as one queue message. */
  receive(from: CoreReplica): ApplyResult {
    const raw = from.log.map((t) => JSON.parse(t) as unknown);
    const seen = () => false;
    const screened = screenEntries(this.store, from.name, raw, seen);
    const r = this.store.transaction(() =>
      applyEntries(this.store, {
        origin: from.name,
        screened,
        verified: screened.fresh.map(() => true),
        nowMs: CORE_NOW,
        hlc: this.hlc,
        isCertified: () => false,
        certifiedRecord: () => undefined,
        seen,
        policy: this.policy,
      }),
    );
    this.hlc = r.hlc;
    return r;
  }
}
