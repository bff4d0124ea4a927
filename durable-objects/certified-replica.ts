/**
 * The certified state at an edge replica: the shell around the certified follower
 * (shared/follower/follower.ts, where every rule is) over the replica's own SQLite
 * (durable-objects/storage/sql-follower-store.ts). Each input goes the same way: decode and screen
 * (the core, writing nothing), verify the certificate's signatures (the one await), step and
 * persist in one `transactionSync` together with the op log's marks, then log, then reply.
 */
import { verifyCertificate } from "../shared/certified/certificate.js";
import type { LocalState } from "../shared/certified/replica-transfer.js";
import type { Certificate, ChunkRecord, ClusterConfig } from "../shared/certified/types.js";
import { Follower } from "../shared/follower/follower.js";
import { runStep } from "../shared/host/step.js";
import { policyOf } from "../shared/namespaces/policy.js";
import type {
  AdoptOutcome,
  CertificationStats,
  CertReport,
  FollowerEvent,
} from "../shared/follower/types.js";
import type { KeyRecord } from "../shared/materialize.js";
import type { SignedOp } from "../shared/ops.js";
import type { Certification, CertifiedResult, CertifiedValue } from "../shared/replies.js";
import { SqlFollowerStore } from "./storage/sql-follower-store.js";

export type { CertifiedBatchMessage } from "../shared/wire/certified-batch.js";
export type {
  AdoptOutcome,
  CertificationStats,
  CertOutcome,
  CertReport,
  Divergence,
} from "../shared/follower/types.js";
export {
  CERT_BUFFER_SEQS,
  CERT_BUFFER_VARIANTS,
  CERTS_KEPT,
  RESULTS_KEPT_MS,
} from "../shared/follower/limits.js";

/** What the op log does when ops become certified (edge-replica.ts / storage/replica-store.ts). */
export interface CertifiedOpSink {
  /**
   * Mark these ops certified in the op log (those present) and rebuild the tentative state of the
   * keys they touch from `certified` (the key's record in the certified state just reached), inside
   * the batch's transaction.
   */
  markCertified(ops: readonly SignedOp[], certified: (key: string) => KeyRecord | undefined): void;
}

/** What the op log does when a certified state is adopted (edge-replica.ts): see `adoptTransfer`. */
export interface TransferSink {
  /** Every op of the op log not marked certified yet. */
  uncertifiedOps(): SignedOp[];
  /** Rebuild the tentative state of these keys (of every key held too, when `all`) from `certified`. */
  rebuild(keys: Iterable<string>, all: boolean, certified: (key: string) => KeyRecord | undefined): void;
}

export class CertifiedReplica {
  private readonly core: Follower;
  /** A key's certified record (the tentative state is it plus the key's uncertified effects). */
  readonly record = (key: string): KeyRecord | undefined => this.core.record(key);

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly sink: CertifiedOpSink,
  ) {
    this.core = new Follower(new SqlFollowerStore(ctx.storage));
  }

  /** The newest certificate applied (null before the first). Kept after a divergence. */
  latestCertificate(): Certificate | null {
    return this.core.latestCertificate();
  }

  /** An op's certified result with its proof, if certified here within RESULTS_KEPT_MS (and not diverged). */
  certifiedResult(opId: string): CertifiedResult | null {
    return this.core.certifiedResult(opId);
  }

  /** A kept certificate by seq (undefined if not kept: never applied, or collected). */
  certificateAt(seq: number): Certificate | undefined {
    return this.core.certificateAt(seq);
  }

  certification(): Certification {
    return this.core.certification();
  }

  /** Is this op in the certified order already (it need not be counted as uncertified)? */
  isCertified(op: Pick<SignedOp, "client" | "seq">): boolean {
    return this.core.isCertified(op);
  }

  /** The key's certified value with its proof, or null (no certificate yet, or diverged). */
  certifiedRead(key: string): CertifiedValue | null {
    return this.core.certifiedRead(key);
  }

  stats(): CertificationStats {
    return this.core.stats();
  }

  /** The current certified state, for the transfer's reuse and chunk checks (read-only use). */
  transferLocal(): LocalState {
    return this.core.local();
  }

  /** The newest certified seq applied (0: none); unlike `latestCertificate`, also after a divergence. */
  headSeq(): number {
    return this.core.head().seq;
  }

  /**
   * Take one certified batch, as the wire text a node or the queue carried (idempotent: a duplicate
   * changes nothing). Only what the core's parser returns is verified, executed, stored and echoed.
   */
  async receive(replica: string, text: unknown, cluster: ClusterConfig): Promise<CertReport> {
    const screened = this.core.screen(text);
    if (screened.kind === "drop") return this.logged(replica, screened.effects.log, screened.effects.report);
    const verdict = await verifyCertificate(screened.batch.certificate, cluster);
    const fx = this.atomically(() => {
      const fx = this.core.onBatch(screened.batch, verdict, policyOf(cluster));
      for (const ops of fx.certified) this.sink.markCertified(ops, this.record);
      return fx;
    });
    return this.logged(replica, fx.log, fx.report);
  }

  /**
   * Adopt a certified state fetched from the nodes (durable-objects/certified-transfer.ts drives
   * the transfer; `certificate` verified by it): the core's adoption and the op log brought in line
   * — the ops the adopted state executed marked certified, every key they or the staged records
   * touch rebuilt (tentative = certified + uncertified ops; every key held too when `fresh`) — in
   * one `transactionSync`.
   */
  adoptTransfer(
    replica: string,
    certificate: Certificate,
    staged: readonly [string, ChunkRecord[]][],
    fresh: boolean,
    sink: TransferSink,
  ): AdoptOutcome {
    const fx = this.atomically(() => {
      const fx = this.core.onTransfer(certificate, staged, fresh);
      if (fx.adopted) {
        const executed = sink.uncertifiedOps().filter((op) => this.core.isCertified(op));
        this.sink.markCertified(executed, this.record);
        sink.rebuild(fx.adopted.keys, fx.adopted.fresh, this.record);
      }
      return fx;
    });
    return this.logged(replica, fx.log, fx.outcome);
  }

  /** One transaction; a throw rolls it back, and then no cache of the core may outlive it. */
  private atomically<T>(body: () => T): T {
    try {
      return runStep({ transaction: (b) => this.ctx.storage.transactionSync(b) }, body).effects;
    } catch (e) {
      this.core.reload();
      throw e;
    }
  }

  private logged<T>(replica: string, log: readonly FollowerEvent[], value: T): T {
    for (const e of log) console[e.level]({ event: e.event, replica, ...e.fields });
    return value;
  }
}
