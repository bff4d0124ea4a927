/**
 * The `certify` task of a replica's alarm: own ops acknowledged here and still not certified
 * `certifyAfterMs` after their ts go to every PBFT node again (a lost queue message delays
 * certification, never loses an op; the nodes dedupe, and an op certified once is never certified
 * again). Paced: when f + 1 nodes answer that their pool is full, the next run waits longer and
 * sends fewer (shared/delivery/certify-pace.ts); the ops wait in the op log meanwhile.
 */
import { CLUSTER_F } from "../shared/cluster-config.js";
import {
  fullPace,
  nextPace,
  nodesBusy,
  paceAllows,
  type CertifyPace,
} from "../shared/delivery/certify-pace.js";
import { CERTIFY_PACE, certifyAfterMs, type DeliveryKnobs } from "../shared/delivery/settings.js";
import type { CertifyStats } from "../shared/rpc/replica-stats.js";
import type { ReplicaBoundary } from "../platform/replica-boundary.js";
import type { ReplicaStore } from "./storage/replica-store.js";

export class CertifyTask {
  /** In memory: a new instance starts at full pace, and the nodes pace it again. */
  private pace: CertifyPace = fullPace(CERTIFY_PACE);
  private readonly counts = { resubmitted: 0, busy: 0, deferred: 0 };

  constructor(
    private readonly knobs: DeliveryKnobs,
    private readonly store: ReplicaStore,
    private readonly boundary: ReplicaBoundary,
  ) {}

  /** One run; `onWork` when ops wait for certification. True when it stopped at its bound. */
  async run(me: string, onWork: () => void): Promise<boolean> {
    if (!paceAllows(this.pace, Date.now())) {
      this.counts.deferred++;
      return false;
    }
    const limit = this.pace.limit;
    const ops = this.store.logs.uncertifiedOf(me, Date.now() - certifyAfterMs(this.knobs), limit);
    if (ops.length === 0) {
      // own ops waiting for their certificate, none due for a resubmission yet: not idle (backing
      // off now would put their resubmission a whole backed-off period later, tens of seconds)
      if (this.store.logs.uncertifiedCountOf(me) > 0) onWork();
      return false;
    }
    onWork();
    const took = await this.boundary.submitToNodes(ops);
    // none asked (the boundary sent nothing): the ops wait for the next run, at its usual period
    if (took.length === 0) return false;
    const answers = took.flatMap((t) => (t.status === "fulfilled" ? [t.value] : []));
    const busy = nodesBusy(answers, CLUSTER_F);
    this.pace = nextPace(this.pace, busy, Date.now(), CERTIFY_PACE);
    this.counts.resubmitted += ops.length;
    if (busy) this.counts.busy++;
    console.log({
      event: "certify_resubmit",
      replica: me,
      ops: ops.length,
      nodesTook: answers.length,
      busy,
      nextLimit: this.pace.limit,
      backoffMs: this.pace.backoffMs,
    });
    return !busy && ops.length === limit;
  }

  /** The pace and counts, and how many own ops wait here uncertified. */
  status(me: string | undefined): CertifyStats {
    return {
      ...this.counts,
      limit: this.pace.limit,
      backoffMs: this.pace.backoffMs,
      waiting: me === undefined ? 0 : this.store.logs.uncertifiedCountOf(me),
    };
  }
}
