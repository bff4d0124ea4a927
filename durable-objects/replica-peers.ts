/**
 * An EdgeReplica's side toward its peers and the cluster: ops of other replicas (the replicate
 * queue, and anti-entropy pages through the same apply path), the pages of its own log it serves
 * them, the queue consumer's confirmations and dead letters, and certified batches (the
 * certificates queue, a node, or catch-up). What peers send is untrusted: parsed strictly, every
 * client signature verified again, so a faulty origin can't inject ops nobody signed.
 */
import { clusterOf } from "../shared/cluster-config.js";
import { runStep } from "../shared/host/step.js";
import { verifyOp } from "../shared/ops.js";
import { applyEntries as applyStep, NO_COUNTS, screenEntries } from "../shared/replica/apply.js";
import { parseAcks, parseReplicateText, type ApplyReport } from "../shared/replication.js";
import type { CertifiedHead } from "../shared/rpc/replica.js";
import { peerText } from "../shared/wire/peer-text.js";
import type { CertReport } from "./certified-replica.js";
import type { ReplicaParts } from "./replica-parts.js";

/** Ops from another replica, via the replicate queue. Idempotent by op id: a redelivery changes nothing. */
export async function applyRemote(p: ReplicaParts, name: string, text: string): Promise<string> {
  await p.identity(name);
  await p.delivery.ensureTimers(name);
  p.boundary.admit("remote"); // "drop" is for certified batches only
  const msg = parseReplicateText(text);
  if (!msg.ok) {
    // nothing in it can be trusted, not even its origin: no cursor moves
    console.log({ event: "remote_message_malformed", replica: name, reason: msg.reason });
    return peerText({ ...NO_COUNTS, malformed: 1, cursor: 0 } satisfies ApplyReport);
  }
  const report = await applyEntries(p, name, msg.value.origin, msg.value.entries);
  if (report.applied > 0) await p.delivery.wake(name); // an op received: not idle any more
  return peerText(report);
}

/**
 * The apply path of queue messages and anti-entropy pages alike (the decisions:
 * shared/replica/apply.ts): screen, verify the fresh entries' signatures, then apply them and move
 * the origin's cursor in one transaction, then share any equivocation learnt.
 */
export async function applyEntries(
  p: ReplicaParts,
  name: string,
  origin: string,
  raw: readonly unknown[],
): Promise<ApplyReport> {
  const now = Date.now();
  const screened = screenEntries(p.store, origin, raw, p.delivery.seenIn(origin));
  p.log(name, screened.events);
  const verified = await Promise.all(screened.fresh.map((e) => verifyOp(e.op)));
  const policy = await p.policy();
  const { effects: r } = runStep(p.tx, () => {
    const step = applyStep(p.store, {
      origin,
      screened,
      verified,
      nowMs: now,
      hlc: p.hlc(),
      isCertified: p.isCertified,
      certifiedRecord: p.certified.record,
      // a snapshot of the cursor taken again: it may have moved during verification
      seen: p.delivery.seenIn(origin),
      policy,
    });
    return { ...step, cursor: p.delivery.handled(name, origin, step.handled) };
  });
  p.advanced(r.hlc);
  p.log(name, r.events);
  if (r.evidence.length > 0) await p.delivery.shareEvidence(name, r.evidence);
  return { ...r.counts, cursor: r.cursor };
}

/** Anti-entropy: this replica's own ops after `after`, the requester's cursor (so confirmed). */
export async function opsSince(
  p: ReplicaParts,
  name: string,
  requester: string,
  after: number,
  limit: number,
): Promise<string> {
  await p.identity(name);
  await p.delivery.ensureTimers(name);
  return p.delivery.logPage(name, requester, after, limit);
}

/** The queue consumer's confirmations: `{peer: that peer's cursor for this origin}` as text. */
export async function confirm(p: ReplicaParts, name: string, text: string): Promise<void> {
  await p.identity(name);
  p.delivery.confirm(name, parseAcks(text));
}

/** The dead-letter consumer: `count` replication messages of this origin were dead-lettered. */
export async function noteDeadLetter(p: ReplicaParts, name: string, count: number): Promise<void> {
  await p.identity(name);
  const n = Number(p.store.getMeta("dead_lettered") ?? "0");
  p.store.setMeta("dead_lettered", String(n + Math.max(0, Math.trunc(count))));
}

/** A certified batch's wire text (shared/wire/certified-batch.ts), from the queue, a node or catch-up. */
export async function receiveCertified(p: ReplicaParts, name: string, text: string): Promise<CertReport> {
  await p.identity(name);
  const admitted = p.boundary.admit("certified");
  const { config } = await clusterOf(p.env);
  if (admitted === "drop")
    return { outcome: "duplicate", seq: null, applied: 0, head: p.certified.headSeq() };
  const report = await p.certified.receive(name, text, config);
  if (report.outcome === "buffered" && report.seq !== null) await p.delivery.gapSeen(name, report.seq);
  return report;
}

/** The newest certified seq applied here, and whether its certified values can be served. */
export async function certifiedHead(p: ReplicaParts, name: string): Promise<CertifiedHead> {
  await p.identity(name);
  const latest = p.certified.latestCertificate();
  return p.boundary.certifiedHead({
    seq: latest?.body.seq ?? 0,
    time: latest?.body.time ?? null,
    certification: p.certified.certification(),
  });
}
