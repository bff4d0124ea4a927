/**
 * The certified state at an edge replica: a `MerkleStateMachine` over the replica's own SQLite
 * (`cert_records*`, `cert_nodes`/`cert_root`/`cert_retired_at`), fed by certified batches
 * `{certificate, ops}` that the PBFT nodes publish (the `certificates` queue, or a node's direct
 * RPC). A batch is taken only if
 *   1. its certificate verifies against the cluster config (2f+1 distinct configured Ed25519 keys),
 *   2. it is the next seq (a later one is verified and buffered, bounded; an older one is dropped),
 *   3. its ops are the certificate's: `nextLogRoot(previous logRoot, batchDigest(ops))` is the
 *      body's `logRoot` and the op count adds up (a carrier can't swap the ops under a certificate);
 * then it is executed (`sm.execute(ops, seq)`) in one `transactionSync` with the bookkeeping (the
 * head, the kept certificates, the op log's `certified` marks, each client's uncertified count).
 * If the state or results root it computes is not the certificate's, the transaction is rolled
 * back, the mismatch is logged loudly and counted, and this replica stops claiming certified
 * values for good (`certification: "diverged"`): it never serves a value it can't prove.
 */
import { canonicalJson } from "../shared/canonical.js";
import { verifyCertificate } from "../shared/certified/certificate.js";
import { batchDigest, GENESIS_LOG_ROOT, nextLogRoot } from "../shared/pbft/chain.js";
import type { Certification, CertifiedResult, CertifiedValue } from "../shared/replies.js";
import { proveResults, type ResultProof } from "../shared/certified/results.js";
import { isExecutedKey } from "../shared/certified/executed.js";
import type { LocalState } from "../shared/certified/replica-transfer.js";
import { MerkleStateMachine } from "../shared/certified/state-machine.js";
import type { Certificate, ChunkRecord, ClusterConfig, Digest, OpResult } from "../shared/certified/types.js";
import type { KeyRecord } from "../shared/materialize.js";
import type { SignedOp } from "../shared/ops.js";
import {
  certifiedBatchText,
  parseCertifiedBatch,
  type CertifiedBatchMessage,
} from "../shared/wire/certified-batch.js";
import { DEDUPE_HORIZON_MS_DEFAULT } from "../shared/delivery/op-gc.js";
import { SqlNodeStore } from "./storage/sql-node-store.js";
import { SqlRecordStore } from "./storage/sql-record-store.js";

export type { CertifiedBatchMessage } from "../shared/wire/certified-batch.js";

/** Seqs ahead of the next one that are buffered (a batch further ahead is dropped, counted). */
export const CERT_BUFFER_SEQS = 64;
/** Distinct batches buffered per seq (a faulty carrier's wrong ops can't crowd out the right ones). */
export const CERT_BUFFER_VARIANTS = 4;
/** Certificates kept for `GET /v1/certificates/:seq` (the newest). */
export const CERTS_KEPT = 128;
/**
 * How long (by the cluster's clock, certificates' `time`) an op's certified result and its batch's
 * certificate stay answerable (`GET /v1/ops/:id`): the op log's dedupe horizon, so an op is proven
 * for as long as it is known. By time, not by seqs: heartbeats certify a seq every 2 s when idle.
 */
export const RESULTS_KEPT_MS = DEDUPE_HORIZON_MS_DEFAULT;

export type CertOutcome =
  | "applied"
  | "buffered"
  | "duplicate"
  | "invalid"
  | "ops_mismatch"
  | "too_far_ahead"
  | "buffer_full"
  | "root_mismatch"
  | "halted";

export interface CertReport {
  outcome: CertOutcome;
  /** The message's seq (null when it had none). */
  seq: number | null;
  /** Batches applied by this call (the message and buffered ones it unblocked). */
  applied: number;
  /** The newest certified seq held afterwards. */
  head: number;
  /** Why a certificate was refused (`verifyCertificate`'s reason), if it was. */
  reason?: string;
}

export interface CertificationStats {
  certification: Certification;
  /** Newest certified seq applied (0: none). */
  seq: number;
  opCount: number;
  buffered: number;
  /** Batches dropped since this instance started (in memory: a dropped batch writes nothing). */
  dropped: Record<(typeof COUNTERS)[number], number>;
  /** Batches whose roots this replica computed differently from their certificate (0 or 1: it halts). */
  rootMismatches: number;
  /** The first mismatch: seq and both roots. */
  diverged: Divergence | null;
}

export interface Divergence {
  seq: number;
  certified: { stateRoot: Digest; resultsRoot: Digest; opCount: number };
  computed: { stateRoot: Digest; resultsRoot: Digest; executed: number };
}

const SCHEMA = `
-- the newest certified seq applied, the log chain at it, and the first divergence (if any)
CREATE TABLE IF NOT EXISTS cert_head (
  one INTEGER PRIMARY KEY CHECK (one = 1), seq INTEGER NOT NULL, log_root TEXT NOT NULL,
  op_count INTEGER NOT NULL, diverged TEXT
);
-- the newest CERTS_KEPT certificates applied, by seq
CREATE TABLE IF NOT EXISTS cert_certificates (seq INTEGER PRIMARY KEY, certificate TEXT NOT NULL);
-- each certified op's result and its proof against its batch's resultsRoot (for RESULTS_KEPT_MS)
CREATE TABLE IF NOT EXISTS cert_results (
  op_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, result TEXT NOT NULL, proof TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS cert_results_seq ON cert_results (seq);
-- the seqs that have results here, with their certificate's time: results and certificates are kept by it
CREATE TABLE IF NOT EXISTS cert_result_seqs (seq INTEGER PRIMARY KEY, time INTEGER NOT NULL);
-- verified batches ahead of the next seq, by (seq, batch digest): applied once the gap fills
CREATE TABLE IF NOT EXISTS cert_buffer (
  seq INTEGER NOT NULL, digest TEXT NOT NULL, batch TEXT NOT NULL, PRIMARY KEY (seq, digest)
) WITHOUT ROWID;
`;

interface Head {
  seq: number;
  logRoot: Digest;
  opCount: number;
  diverged: Divergence | null;
}

class RootMismatch extends Error {
  constructor(readonly divergence: Divergence) {
    super("certified root mismatch");
  }
}

/** What the op log does when ops become certified (edge-replica.ts / replica-store.ts). */
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

export type AdoptOutcome = "adopted" | "not_prefix" | "root_mismatch" | "stale";

/**
 * The certified state's record store keeps no history: this replica never serves an older version
 * (it collects through each batch at once), so replaced records need no rows of their own.
 */
const CERT_RECORDS = { history: false } as const;

/** The certified state's tables (SqlRecordStore "cert_records", SqlNodeStore "cert"). */
const CERT_STATE_TABLES = [
  ...SqlRecordStore.tablesOf("cert_records", CERT_RECORDS),
  ...SqlNodeStore.tablesOf("cert"),
];

const COUNTERS = ["duplicate", "invalid", "opsMismatch", "tooFarAhead", "bufferFull", "halted"] as const;

export class CertifiedReplica {
  private sm: MerkleStateMachine;
  private head: Head | undefined;
  private latest: Certificate | null | undefined;

  constructor(
    private readonly ctx: DurableObjectState,
    private readonly sink: CertifiedOpSink,
  ) {
    ctx.storage.sql.exec(SCHEMA);
    this.sm = this.openMachine();
  }

  private get sql(): SqlStorage {
    return this.ctx.storage.sql;
  }

  private openMachine(): MerkleStateMachine {
    return new MerkleStateMachine({
      records: new SqlRecordStore(this.sql, "cert_records", CERT_RECORDS),
      nodes: new SqlNodeStore(this.sql, "cert"),
    });
  }

  private readHead(): Head {
    if (this.head) return this.head;
    const row = this.sql
      .exec<{ seq: number; log_root: string; op_count: number; diverged: string | null }>(
        "SELECT seq, log_root, op_count, diverged FROM cert_head WHERE one = 1",
      )
      .toArray()[0];
    this.head = row
      ? {
          seq: row.seq,
          logRoot: row.log_root,
          opCount: row.op_count,
          diverged: row.diverged === null ? null : (JSON.parse(row.diverged) as Divergence),
        }
      : { seq: 0, logRoot: GENESIS_LOG_ROOT, opCount: 0, diverged: null };
    return this.head;
  }

  private writeHead(h: Head): void {
    this.sql.exec(
      `INSERT INTO cert_head (one, seq, log_root, op_count, diverged) VALUES (1, ?, ?, ?, ?)
       ON CONFLICT (one) DO UPDATE SET seq = excluded.seq, log_root = excluded.log_root,
         op_count = excluded.op_count, diverged = excluded.diverged`,
      h.seq,
      h.logRoot,
      h.opCount,
      h.diverged === null ? null : JSON.stringify(h.diverged),
    );
  }

  /**
   * Drops are counted in memory (since this instance started), not in storage: a refused or
   * duplicate batch changes no row at all, which the tests check with a digest of every table.
   */
  private readonly drops = new Map<string, number>();

  private count(name: (typeof COUNTERS)[number]): void {
    this.drops.set(name, (this.drops.get(name) ?? 0) + 1);
  }

  private counter(name: string): number {
    return this.drops.get(name) ?? 0;
  }

  /** The newest certificate applied (null before the first). Kept after a divergence. */
  latestCertificate(): Certificate | null {
    if (this.latest !== undefined) return this.latest;
    const row = this.sql
      .exec<{ certificate: string }>("SELECT certificate FROM cert_certificates ORDER BY seq DESC LIMIT 1")
      .toArray()[0];
    this.latest = row ? (JSON.parse(row.certificate) as Certificate) : null;
    return this.latest;
  }

  /** A kept certificate by seq (undefined if not kept: never applied, or older than the newest N). */
  /**
   * An op's certified result with its proof against the resultsRoot of its batch's certificate, if
   * certified here within RESULTS_KEPT_MS (and this replica has not diverged).
   */
  certifiedResult(opId: string): CertifiedResult | null {
    if (this.certification() !== "ok") return null;
    const row = this.sql
      .exec<{ seq: number; result: string; proof: string }>(
        "SELECT seq, result, proof FROM cert_results WHERE op_id = ?",
        opId,
      )
      .toArray()[0];
    const certificate = row ? this.certificateAt(row.seq) : undefined;
    if (!row || !certificate) return null;
    return {
      seq: row.seq,
      result: JSON.parse(row.result) as OpResult,
      proof: JSON.parse(row.proof) as ResultProof,
      certificate,
    };
  }

  /**
   * Inside a batch's (or an adoption's) transaction: the certified state is now `cert`'s. This
   * replica never serves an older state, so what only older versions used goes at once; the head
   * moves and the certificate is kept (replies carry it). The new head.
   */
  private advanceTo(cert: Certificate): Head {
    const body = cert.body;
    this.sm.collect(body.seq);
    const next: Head = { seq: body.seq, logRoot: body.logRoot, opCount: body.opCount, diverged: null };
    this.writeHead(next);
    this.sql.exec(
      "INSERT OR REPLACE INTO cert_certificates (seq, certificate) VALUES (?, ?)",
      body.seq,
      canonicalJson(cert),
    );
    return next;
  }

  /**
   * Results older than RESULTS_KEPT_MS (by the certificates' time) go, with their seqs' certificates;
   * other certificates are kept for the newest CERTS_KEPT seqs. Inside the batch's transaction.
   */
  private collectResults(seq: number, time: number): void {
    const old = this.sql
      .exec<{ s: number | null }>(
        "SELECT max(seq) AS s FROM cert_result_seqs WHERE time < ?",
        time - RESULTS_KEPT_MS,
      )
      .one().s;
    if (old !== null) {
      this.sql.exec("DELETE FROM cert_results WHERE seq <= ?", old);
      this.sql.exec("DELETE FROM cert_result_seqs WHERE seq <= ?", old);
    }
    this.sql.exec(
      "DELETE FROM cert_certificates WHERE seq <= ? AND seq NOT IN (SELECT seq FROM cert_result_seqs)",
      seq - CERTS_KEPT,
    );
  }

  certificateAt(seq: number): Certificate | undefined {
    const row = this.sql
      .exec<{ certificate: string }>("SELECT certificate FROM cert_certificates WHERE seq = ?", seq)
      .toArray()[0];
    return row ? (JSON.parse(row.certificate) as Certificate) : undefined;
  }

  certification(): Certification {
    const h = this.readHead();
    return h.diverged ? "diverged" : h.seq === 0 ? "none" : "ok";
  }

  /** Is this op in the certified order already (it need not be counted as uncertified)? */
  isCertified(op: Pick<SignedOp, "client" | "seq">): boolean {
    return this.readHead().seq > 0 && this.sm.hasExecuted(op);
  }

  /** The key's certified value with its proof, or null (no certificate yet, or diverged). */
  certifiedRead(key: string): CertifiedValue | null {
    if (this.certification() !== "ok") return null;
    const cert = this.latestCertificate();
    if (!cert) return null;
    const p = this.sm.proveKey(key);
    return { seq: cert.body.seq, stateRoot: cert.body.stateRoot, value: p.value, proof: p.proof };
  }

  stats(): CertificationStats {
    const h = this.readHead();
    const dropped = Object.fromEntries(
      COUNTERS.map((c) => [c, this.counter(c)]),
    ) as CertificationStats["dropped"];
    return {
      certification: this.certification(),
      seq: h.seq,
      opCount: h.opCount,
      buffered: this.sql.exec<{ n: number }>("SELECT count(*) AS n FROM cert_buffer").one().n,
      dropped,
      // durable: the first mismatch halts certified serving for good, so there is at most one
      rootMismatches: h.diverged ? 1 : 0,
      diverged: h.diverged,
    };
  }

  /**
   * Take one certified batch, as the wire text a node or the queue carried (idempotent: a duplicate
   * changes nothing). Only what `parseCertifiedBatch` returns is verified, executed, stored and
   * echoed: a message that is not exactly a certificate and well-formed ops is refused here
   * (`invalid`, with the parser's reason), and the seq comes again from another copy or node.
   */
  async receive(replica: string, text: unknown, cluster: ClusterConfig): Promise<CertReport> {
    const report = (
      outcome: CertOutcome,
      seq: number | null,
      extra: Partial<CertReport> = {},
    ): CertReport => ({
      outcome,
      seq,
      applied: 0,
      head: this.readHead().seq,
      ...extra,
    });
    const parsed = parseCertifiedBatch(text);
    if (!parsed.ok) {
      this.count("invalid");
      console.log({ event: "certified_batch_malformed", replica, reason: parsed.reason });
      return report("invalid", null, { reason: parsed.reason });
    }
    const { certificate: cert, ops } = parsed.value;
    const seq = cert.body.seq;
    const head = this.readHead();
    if (head.diverged) {
      this.count("halted");
      return report("halted", seq);
    }
    if (seq <= head.seq) {
      this.count("duplicate");
      return report("duplicate", seq);
    }
    if (seq > head.seq + CERT_BUFFER_SEQS) {
      this.count("tooFarAhead");
      console.log({ event: "certified_batch_too_far_ahead", replica, seq, head: head.seq });
      return report("too_far_ahead", seq);
    }
    const verdict = await verifyCertificate(cert, cluster);
    if (!verdict.ok) {
      this.count("invalid");
      console.log({
        event: "certificate_refused",
        replica,
        seq,
        reason: verdict.reason,
        detail: verdict.detail,
      });
      return report("invalid", seq, { reason: verdict.reason });
    }
    const digest = batchDigest(ops);
    // the state may have moved during verification: decide again, synchronously from here on
    const now = this.readHead();
    if (now.diverged) return (this.count("halted"), report("halted", seq));
    if (seq <= now.seq) return (this.count("duplicate"), report("duplicate", seq));
    if (seq > now.seq + 1) return this.buffer(replica, seq, digest, { certificate: cert, ops }, report);
    const first = this.applyNext(replica, { certificate: cert, ops }, digest);
    if (first === "applied") return report("applied", seq, { applied: 1 + this.drainBuffer(replica) });
    // wrong ops under a good certificate: a copy buffered earlier for this seq may be the right one
    const applied = first === "ops_mismatch" ? this.drainBuffer(replica) : 0;
    return report(applied > 0 ? "applied" : first, seq, { applied });
  }

  // --- certified state transfer (durable-objects/certified-transfer.ts drives it) -------------

  /** The current certified state, for the transfer's reuse and chunk checks (read-only use). */
  transferLocal(): LocalState {
    return this.sm;
  }

  /** The newest certified seq applied (0: none); unlike `latestCertificate`, also after a divergence. */
  headSeq(): number {
    return this.readHead().seq;
  }

  /**
   * Adopt a certified state fetched from the nodes: `staged` (subtree path → every record under it,
   * each chunk checked against its certificate's hashes), all of it in one `transactionSync` — the
   * records and tree at version `seq` (the whole certified state replaced first when `fresh`), the
   * head `{seq, logRoot, opCount}` from the certificate with the divergence cleared, the certificate
   * kept (replies carry it), the buffer below it dropped, and the tentative state brought back in
   * line: the op log's ops the adopted state executed are marked certified, and every key they or
   * the staged records touch is rebuilt (tentative = certified + uncertified ops). `certificate`
   * must be verified by the caller. Cost: the staged records, plus one scan of the uncertified op
   * rows; when `fresh`, also every key of the tentative state.
   */
  adoptTransfer(
    replica: string,
    certificate: Certificate,
    staged: readonly [string, ChunkRecord[]][],
    fresh: boolean,
    sink: TransferSink,
  ): AdoptOutcome {
    const body = certificate.body;
    if (body.seq <= this.readHead().seq) return "stale"; // batches took it there meanwhile
    let outcome: AdoptOutcome = "adopted";
    try {
      this.ctx.storage.transactionSync(() => {
        if (fresh) {
          for (const t of CERT_STATE_TABLES) this.sql.exec(`DELETE FROM ${t}`);
          this.sm = this.openMachine();
        }
        const root = this.sm.adopt(staged, body.seq);
        if (root !== body.stateRoot) {
          outcome = root === null ? "not_prefix" : "root_mismatch";
          throw new Error(outcome);
        }
        const next = this.advanceTo(certificate);
        this.collectResults(body.seq, body.time);
        this.sql.exec("DELETE FROM cert_buffer WHERE seq <= ?", body.seq);
        const executed = sink.uncertifiedOps().filter((op) => this.sm.hasExecuted(op));
        this.sink.markCertified(executed, (key) => this.sm.get(key));
        const keys = new Set<string>();
        for (const [, records] of staged) for (const [key] of records) if (!isExecutedKey(key)) keys.add(key);
        sink.rebuild(keys, fresh, (key) => this.sm.get(key));
        this.head = next;
        this.latest = certificate;
      });
    } catch (e) {
      // rolled back: reopen so no cache outlives the rollback
      this.head = undefined;
      this.latest = undefined;
      this.sm = this.openMachine();
      if (outcome === "adopted") throw e;
      console.error({ event: "certified_transfer_refused", replica, seq: body.seq, outcome });
      return outcome;
    }
    console.log({
      event: "certified_transfer_adopted",
      replica,
      seq: body.seq,
      fresh,
      subtrees: staged.length,
    });
    return "adopted";
  }

  private buffer(
    replica: string,
    seq: number,
    digest: Digest,
    msg: CertifiedBatchMessage,
    report: (o: CertOutcome, s: number | null) => CertReport,
  ): CertReport {
    const has = this.sql
      .exec("SELECT 1 FROM cert_buffer WHERE seq = ? AND digest = ?", seq, digest)
      .toArray();
    if (has.length > 0) {
      this.count("duplicate");
      return report("duplicate", seq);
    }
    const variants = this.sql
      .exec<{ n: number }>("SELECT count(*) AS n FROM cert_buffer WHERE seq = ?", seq)
      .one().n;
    if (variants >= CERT_BUFFER_VARIANTS) {
      this.count("bufferFull");
      console.log({ event: "certified_batch_buffer_full", replica, seq });
      return report("buffer_full", seq);
    }
    this.sql.exec(
      "INSERT INTO cert_buffer (seq, digest, batch) VALUES (?, ?, ?)",
      seq,
      digest,
      certifiedBatchText(msg),
    );
    return report("buffered", seq);
  }

  /** Apply buffered batches while the next seq is there; the count applied. */
  private drainBuffer(replica: string): number {
    let applied = 0;
    for (;;) {
      const head = this.readHead();
      if (head.diverged) return applied;
      const next = head.seq + 1;
      const rows = this.sql
        .exec<{ digest: string; batch: string }>("SELECT digest, batch FROM cert_buffer WHERE seq = ?", next)
        .toArray();
      if (rows.length === 0) return applied;
      let took = false;
      for (const r of rows) {
        // applying deletes the buffered rows up to its seq, in its transaction
        const outcome = this.applyNext(replica, JSON.parse(r.batch) as CertifiedBatchMessage, r.digest);
        if (outcome === "applied") {
          took = true;
          break;
        }
        if (outcome === "root_mismatch") return applied;
      }
      if (!took) {
        // every copy held for this seq has ops that are not its certificate's: useless, and a
        // right copy arriving later must find room
        this.sql.exec("DELETE FROM cert_buffer WHERE seq = ?", next);
        return applied;
      }
      applied++;
    }
  }

  /** Apply the batch of the next seq (its certificate verified); the outcome. Synchronous. */
  private applyNext(replica: string, msg: CertifiedBatchMessage, digest: Digest): CertOutcome {
    const head = this.readHead();
    const body = msg.certificate.body;
    if (
      nextLogRoot(head.logRoot, digest) !== body.logRoot ||
      head.opCount + msg.ops.length !== body.opCount
    ) {
      this.count("opsMismatch");
      console.log({ event: "certified_ops_mismatch", replica, seq: body.seq });
      return "ops_mismatch";
    }
    try {
      this.ctx.storage.transactionSync(() => {
        const exec = this.sm.execute(msg.ops, body.seq);
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
        const next = this.advanceTo(msg.certificate);
        const proofs = proveResults(exec.results);
        exec.results.forEach((r, i) =>
          this.sql.exec(
            "INSERT OR REPLACE INTO cert_results (op_id, seq, result, proof) VALUES (?, ?, ?, ?)",
            r.opId,
            body.seq,
            JSON.stringify(r),
            JSON.stringify(proofs[i]),
          ),
        );
        if (exec.results.length > 0)
          this.sql.exec(
            "INSERT OR REPLACE INTO cert_result_seqs (seq, time) VALUES (?, ?)",
            body.seq,
            body.time,
          );
        this.collectResults(body.seq, body.time);
        this.sql.exec("DELETE FROM cert_buffer WHERE seq <= ?", body.seq);
        this.sink.markCertified(msg.ops, (key) => this.sm.get(key));
        this.head = next;
        this.latest = msg.certificate;
      });
    } catch (e) {
      this.head = undefined;
      this.latest = undefined;
      if (!(e instanceof RootMismatch)) {
        this.sm = this.openMachine();
        throw e;
      }
      // rolled back: the stores are as they were; reopen so no cache outlives the rollback
      this.sm = this.openMachine();
      const d = e.divergence;
      this.ctx.storage.transactionSync(() => {
        this.writeHead({ ...this.readHead(), diverged: this.readHead().diverged ?? d });
        this.sql.exec("DELETE FROM cert_buffer");
      });
      this.head = undefined;
      console.error({ event: "certified_root_mismatch", level: "critical", replica, ...d });
      return "root_mismatch";
    }
    return "applied";
  }
}
