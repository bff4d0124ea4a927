/**
 * The certified follower: a replica's certified state, fed by certified batches `{certificate, ops}`
 * that the PBFT nodes publish. Pure and deterministic — no `await`, clock, randomness or I/O: its
 * host verifies the certificate's signatures (the one asynchronous check) between `screen` and
 * `onBatch`, runs each handler inside one transaction of its `FollowerStore`, then does what the
 * effects say (mark the op log, log) and replies with the report (a `buffered` one: its catch-up
 * runs soon).
 *
 * A batch is taken only if
 *   1. its certificate verifies against the cluster config (the host's verdict),
 *   2. it is the next seq (a later one is buffered, ≤ CERT_BUFFER_SEQS seqs ahead and
 *      CERT_BUFFER_VARIANTS distinct batches per seq; an older one is dropped),
 *   3. its ops are the certificate's: `nextLogRoot(previous logRoot, batchDigest(ops))` is the
 *      body's `logRoot` and the op count adds up (a carrier can't swap the ops under a certificate);
 * then it is executed on the certified state with the bookkeeping (head, kept certificates, results)
 * in one inner transaction. If the state or results root this follower computes is not the
 * certificate's, that transaction is undone, the divergence is recorded, the buffer dropped, and no
 * certified value is served any more (`certification: "diverged"`) until a certified state transfer
 * (`onTransfer`) brings the state back. Only its own execution makes a follower diverge: anything a
 * carrier can change (the text, the ops, the certificate) is refused before execution.
 */
import { batchDigest, GENESIS_LOG_ROOT, nextLogRoot } from "../pbft/chain.js";
import type { CertificateVerdict } from "../certified/certificate.js";
import { isExecutedKey } from "../certified/executed.js";
import type { LocalState } from "../certified/replica-transfer.js";
import { proveResults } from "../certified/results.js";
import { MerkleStateMachine } from "../certified/state-machine.js";
import { NAMESPACE_POLICY, type NamespacePolicy } from "../namespaces/policy.js";
import type { Certificate, ChunkRecord, Digest } from "../certified/types.js";
import type { KeyRecord } from "../materialize.js";
import type { SignedOp } from "../ops.js";
import type { Certification, CertifiedResult, CertifiedValue } from "../replies.js";
import {
  certifiedBatchText,
  parseCertifiedBatch,
  type CertifiedBatchMessage,
} from "../wire/certified-batch.js";
import { CERT_BUFFER_SEQS, CERT_BUFFER_VARIANTS, CERTS_KEPT, RESULTS_KEPT_MS } from "./limits.js";
import type { FollowerStore } from "./store.js";
import {
  DROP_COUNTERS,
  type AdoptOutcome,
  type CertificationStats,
  type CertOutcome,
  type CertReport,
  type Divergence,
  type DropCounter,
  type FollowerEvent,
  type Head,
} from "./types.js";

/** What one batch came to, and what the host does about it. */
export interface BatchEffects {
  report: CertReport;
  /** The ops of each batch applied, in order: the op log marks them certified (same transaction). */
  certified: SignedOp[][];
  /** To log after the transaction commits. */
  log: FollowerEvent[];
}

/** What an adoption came to; when adopted, the keys the adopted records touch (tentative rebuild). */
export interface AdoptEffects {
  outcome: AdoptOutcome;
  adopted?: { keys: Set<string>; fresh: boolean };
  log: FollowerEvent[];
}

/** Before verification: a batch dropped at once (cheap), or one worth verifying. */
export type Screened =
  { kind: "drop"; effects: BatchEffects } | { kind: "verify"; batch: CertifiedBatchMessage };

const GENESIS: Head = { seq: 0, logRoot: GENESIS_LOG_ROOT, opCount: 0, diverged: null };

class RootMismatch extends Error {
  constructor(readonly divergence: Divergence) {
    super("certified root mismatch");
  }
}

export class Follower {
  private sm: MerkleStateMachine;
  private cachedHead: Head | undefined;
  private latest: Certificate | null | undefined;
  /** Drops since this instance started: a dropped batch writes no row, so none are stored. */
  private readonly drops = new Map<DropCounter, number>();
  /** Which unclaimed namespaces are open, as the batch being applied was certified with. */
  private policy: NamespacePolicy = NAMESPACE_POLICY;

  constructor(private readonly store: FollowerStore) {
    this.sm = new MerkleStateMachine(store.openState());
  }

  /** Forget every cache (after the host's transaction rolled back): read again from the store. */
  reload(): void {
    this.cachedHead = undefined;
    this.latest = undefined;
    this.sm = new MerkleStateMachine(this.store.openState());
  }

  // --- reads ---------------------------------------------------------------------------------

  head(): Head {
    return (this.cachedHead ??= this.store.head() ?? GENESIS);
  }

  /** The newest certificate applied (null before the first). Kept after a divergence. */
  latestCertificate(): Certificate | null {
    if (this.latest === undefined) this.latest = this.store.latestCertificate() ?? null;
    return this.latest;
  }

  /** A kept certificate by seq (undefined if not kept: never applied, or collected). */
  certificateAt(seq: number): Certificate | undefined {
    return this.store.certificate(seq);
  }

  certification(): Certification {
    const h = this.head();
    return h.diverged ? "diverged" : h.seq === 0 ? "none" : "ok";
  }

  /** Is this op in the certified order already? */
  isCertified(op: Pick<SignedOp, "client" | "seq">): boolean {
    return this.head().seq > 0 && this.sm.hasExecuted(op);
  }

  /** A key's record in the certified state (what the op log rebases its tentative state on). */
  record(key: string): KeyRecord | undefined {
    return this.sm.get(key);
  }

  /** The key's certified value with its proof, or null (no certificate yet, or diverged). */
  certifiedRead(key: string): CertifiedValue | null {
    if (this.certification() !== "ok") return null;
    const cert = this.latestCertificate();
    if (!cert) return null;
    const p = this.sm.proveKey(key);
    return { seq: cert.body.seq, stateRoot: cert.body.stateRoot, value: p.value, proof: p.proof };
  }

  /** An op's certified result with its proof, if certified here within RESULTS_KEPT_MS (and not diverged). */
  certifiedResult(opId: string): CertifiedResult | null {
    if (this.certification() !== "ok") return null;
    const r = this.store.result(opId);
    const certificate = r ? this.store.certificate(r.seq) : undefined;
    if (!r || !certificate) return null;
    return { seq: r.seq, result: r.result, proof: r.proof, certificate };
  }

  /** The current certified state, for a state transfer's reuse and chunk checks (read-only use). */
  local(): LocalState {
    return this.sm;
  }

  stats(): CertificationStats {
    const h = this.head();
    const dropped = Object.fromEntries(DROP_COUNTERS.map((c) => [c, this.drops.get(c) ?? 0]));
    return {
      certification: this.certification(),
      seq: h.seq,
      opCount: h.opCount,
      buffered: this.store.bufferSize(),
      dropped: dropped as CertificationStats["dropped"],
      // durable: the first mismatch halts certified serving, so there is at most one
      rootMismatches: h.diverged ? 1 : 0,
      diverged: h.diverged,
    };
  }

  // --- inputs --------------------------------------------------------------------------------

  /**
   * A batch's wire text, before its certificate is verified: what can be refused without verifying
   * it (not exactly a certified batch, halted, old, too far ahead) is refused here. Writes nothing.
   */
  screen(text: unknown): Screened {
    const fx = this.effects();
    const parsed = parseCertifiedBatch(text);
    if (!parsed.ok) {
      this.note(fx, "log", "certified_batch_malformed", { reason: parsed.reason });
      return { kind: "drop", effects: this.drop(fx, "invalid", "invalid", null, parsed.reason) };
    }
    const seq = parsed.value.certificate.body.seq;
    const head = this.head();
    if (head.diverged) return { kind: "drop", effects: this.drop(fx, "halted", "halted", seq) };
    if (seq <= head.seq) return { kind: "drop", effects: this.drop(fx, "duplicate", "duplicate", seq) };
    if (seq > head.seq + CERT_BUFFER_SEQS) {
      this.note(fx, "log", "certified_batch_too_far_ahead", { seq, head: head.seq });
      return { kind: "drop", effects: this.drop(fx, "tooFarAhead", "too_far_ahead", seq) };
    }
    return { kind: "verify", batch: parsed.value };
  }

  /**
   * A screened batch with the host's verdict on its certificate. Decides again (the state may have
   * moved while the host verified), then buffers, applies (and whatever buffered batches it
   * unblocks) or refuses. Run inside the host's transaction.
   */
  onBatch(
    batch: CertifiedBatchMessage,
    verdict: CertificateVerdict,
    policy: NamespacePolicy = NAMESPACE_POLICY,
  ): BatchEffects {
    // the configuration the certificate was checked against decides which namespaces are open,
    // for this batch and the buffered ones it unblocks (all certified under that configuration)
    this.policy = policy;
    const fx = this.effects();
    const seq = batch.certificate.body.seq;
    if (!verdict.ok) {
      this.note(fx, "log", "certificate_refused", { seq, reason: verdict.reason, detail: verdict.detail });
      return this.drop(fx, "invalid", "invalid", seq, verdict.reason);
    }
    const digest = batchDigest(batch.ops);
    const head = this.head();
    if (head.diverged) return this.drop(fx, "halted", "halted", seq);
    if (seq <= head.seq) return this.drop(fx, "duplicate", "duplicate", seq);
    if (seq > head.seq + 1) return this.buffer(fx, seq, digest, batch);
    const first = this.applyNext(fx, batch, digest);
    if (first === "applied") return this.done(fx, "applied", seq, 1 + this.drainBuffer(fx));
    // wrong ops under a good certificate: a copy buffered earlier for this seq may be the right one
    const applied = first === "ops_mismatch" ? this.drainBuffer(fx) : 0;
    return this.done(fx, applied > 0 ? "applied" : first, seq, applied);
  }

  /**
   * Adopt a certified state fetched from the nodes (shared/certified/replica-transfer.ts staged it,
   * each chunk checked against `certificate`'s hashes; the host verified `certificate`): the records
   * and tree at its seq (the whole state replaced first when `fresh`), the head from the certificate
   * with the divergence cleared, the certificate kept, the buffer below it dropped. The host then
   * brings its op log in line (`adopted`), in the same transaction. Run inside it.
   */
  onTransfer(
    certificate: Certificate,
    staged: readonly [string, ChunkRecord[]][],
    fresh: boolean,
  ): AdoptEffects {
    const log: FollowerEvent[] = [];
    const body = certificate.body;
    if (body.seq <= this.head().seq) return { outcome: "stale", log }; // batches took it there meanwhile
    let outcome: AdoptOutcome = "adopted";
    // the keys held under the staged paths before: one the adopted state lacks (a delete since) is
    // removed by adopting, and its tentative record must be rebuilt like the staged ones
    const keys = new Set<string>();
    if (!fresh) for (const [path] of staged) for (const key of this.sm.keysUnder(path)) keys.add(key);
    try {
      this.store.transaction(() => {
        if (fresh) {
          this.store.wipeState();
          this.sm = new MerkleStateMachine(this.store.openState());
        }
        const root = this.sm.adopt(staged, body.seq);
        if (root !== body.stateRoot) {
          outcome = root === null ? "not_prefix" : "root_mismatch";
          throw new Error(outcome);
        }
        this.advanceTo(certificate);
        this.collectResults(body.seq, body.time);
        this.store.bufferDropThrough(body.seq);
      });
    } catch (e) {
      this.reload(); // rolled back: no cache outlives it
      if (outcome === "adopted") throw e;
      log.push({ level: "error", event: "certified_transfer_refused", fields: { seq: body.seq, outcome } });
      return { outcome, log };
    }
    for (const [, records] of staged) for (const [key] of records) if (!isExecutedKey(key)) keys.add(key);
    log.push({
      level: "log",
      event: "certified_transfer_adopted",
      fields: { seq: body.seq, fresh, subtrees: staged.length },
    });
    return { outcome: "adopted", adopted: { keys, fresh }, log };
  }

  // --- the rules -------------------------------------------------------------------------------

  private buffer(fx: BatchEffects, seq: number, digest: Digest, batch: CertifiedBatchMessage): BatchEffects {
    if (this.store.bufferHas(seq, digest)) return this.drop(fx, "duplicate", "duplicate", seq);
    if (this.store.bufferCount(seq) >= CERT_BUFFER_VARIANTS) {
      this.note(fx, "log", "certified_batch_buffer_full", { seq });
      return this.drop(fx, "bufferFull", "buffer_full", seq);
    }
    this.store.bufferPut(seq, { digest, text: certifiedBatchText(batch) });
    return this.done(fx, "buffered", seq, 0);
  }

  /** Apply buffered batches while the next seq is there; the count applied. */
  private drainBuffer(fx: BatchEffects): number {
    let applied = 0;
    for (;;) {
      const head = this.head();
      if (head.diverged) return applied;
      const next = head.seq + 1;
      const held = this.store.bufferAt(next);
      if (held.length === 0) return applied;
      let took = false;
      for (const b of held) {
        // applying deletes the buffered batches up to its seq, in its transaction
        const outcome = this.applyNext(fx, JSON.parse(b.text) as CertifiedBatchMessage, b.digest);
        if (outcome === "applied") {
          took = true;
          break;
        }
        if (outcome === "root_mismatch") return applied;
      }
      if (!took) {
        // every copy held for this seq has ops that are not its certificate's: useless, and a
        // right copy arriving later must find room
        this.store.bufferDropSeq(next);
        return applied;
      }
      applied++;
    }
  }

  /** Apply the batch of the next seq (its certificate verified); the outcome. */
  private applyNext(fx: BatchEffects, msg: CertifiedBatchMessage, digest: Digest): CertOutcome {
    const head = this.head();
    const body = msg.certificate.body;
    if (
      nextLogRoot(head.logRoot, digest) !== body.logRoot ||
      head.opCount + msg.ops.length !== body.opCount
    ) {
      this.count("opsMismatch");
      this.note(fx, "log", "certified_ops_mismatch", { seq: body.seq });
      return "ops_mismatch";
    }
    try {
      this.store.transaction(() => {
        const exec = this.sm.execute(msg.ops, body.seq, this.policy);
        if (
          exec.stateRoot !== body.stateRoot ||
          exec.resultsRoot !== body.resultsRoot ||
          exec.ops.length !== msg.ops.length
        )
          throw new RootMismatch({
            seq: body.seq,
            certified: { stateRoot: body.stateRoot, resultsRoot: body.resultsRoot, opCount: body.opCount },
            computed: { stateRoot: exec.stateRoot, resultsRoot: exec.resultsRoot, executed: exec.ops.length },
          });
        this.advanceTo(msg.certificate);
        const proofs = proveResults(exec.results);
        this.store.putResults(
          body.seq,
          body.time,
          exec.results.map((r, i) => ({ result: r, proof: proofs[i]! })),
        );
        this.collectResults(body.seq, body.time);
        this.store.bufferDropThrough(body.seq);
      });
    } catch (e) {
      this.reload(); // rolled back: the stores are as they were, no cache outlives that
      if (!(e instanceof RootMismatch)) throw e;
      const d = e.divergence;
      const h = this.head();
      this.store.putHead({ ...h, diverged: h.diverged ?? d });
      this.store.bufferClear();
      this.cachedHead = undefined;
      this.note(fx, "error", "certified_root_mismatch", { level: "critical", ...d });
      return "root_mismatch";
    }
    fx.certified.push(msg.ops);
    return "applied";
  }

  /**
   * The certified state is now `cert`'s. This follower never serves an older state, so what only
   * older versions used goes at once; the head moves and the certificate is kept (replies carry it).
   */
  private advanceTo(cert: Certificate): void {
    const body = cert.body;
    this.sm.collect(body.seq);
    const next: Head = { seq: body.seq, logRoot: body.logRoot, opCount: body.opCount, diverged: null };
    this.store.putHead(next);
    this.store.putCertificate(cert);
    this.cachedHead = next;
    this.latest = cert;
  }

  /**
   * Results older than RESULTS_KEPT_MS (by the certificates' time) go, with their seqs'
   * certificates; other certificates are kept for the newest CERTS_KEPT seqs.
   */
  private collectResults(seq: number, time: number): void {
    const old = this.store.resultSeqBefore(time - RESULTS_KEPT_MS);
    if (old !== null) this.store.dropResultsThrough(old);
    this.store.dropCertificatesThrough(seq - CERTS_KEPT);
  }

  // --- effects -------------------------------------------------------------------------------

  private effects(): BatchEffects {
    return { report: { outcome: "duplicate", seq: null, applied: 0, head: 0 }, certified: [], log: [] };
  }

  private count(c: DropCounter): void {
    this.drops.set(c, (this.drops.get(c) ?? 0) + 1);
  }

  private note(
    fx: { log: FollowerEvent[] },
    level: FollowerEvent["level"],
    event: string,
    fields: Record<string, unknown>,
  ) {
    fx.log.push({ level, event, fields });
  }

  private drop(fx: BatchEffects, c: DropCounter, outcome: CertOutcome, seq: number | null, reason?: string) {
    this.count(c);
    return this.done(fx, outcome, seq, 0, reason);
  }

  private done(fx: BatchEffects, outcome: CertOutcome, seq: number | null, applied: number, reason?: string) {
    fx.report = { outcome, seq, applied, head: this.head().seq, ...(reason === undefined ? {} : { reason }) };
    return fx;
  }
}
