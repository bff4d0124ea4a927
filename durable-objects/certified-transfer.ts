/**
 * A replica recovers its certified state by itself: a certified state transfer from the PBFT nodes,
 * for a replica that diverged (its execution disagreed with a certificate) or that is behind by more
 * than the nodes keep (every node lacks its next seq: a long outage, old storage restored). Run by
 * the replica's alarm task `certifiedSync` (durable-objects/delivery.ts) instead of a catch-up round
 * while one is wanted or in progress; the replica keeps serving its tentative state meanwhile.
 *
 * Every decision is in shared/certified/replica-transfer.ts; this driver does what it says:
 * - asks a node (a deadline on every call) for its transfer point (`transferPoint`: the certificate
 *   of its stable checkpoint) and verifies the certificate against the replica's cluster config;
 * - asks for chunks of that state (`stateChunks`), which the pure module checks against the hashes
 *   the certificate's `stateRoot` commits to;
 * - stores the progress in SQLite after each answer (storage/sql-transfer-store.ts), so an eviction
 *   or a restart resumes where it was;
 * - adopts (`CertifiedReplica.adoptTransfer`, one `transactionSync`), after which the normal catch-up
 *   goes on from the certificate's seq + 1.
 * Answers are canonical JSON text, read only through the strict parsers of transfer-wire.ts.
 * Counters are in memory, in the replica's `stats().certifiedTransfer`. See docs/architecture.md
 * ("Recovering: certified state transfer to a replica").
 */
import { withDeadline } from "../shared/deadline.js";
import { PBFT_NODES } from "../shared/cluster-config.js";
import { verifyCertificate } from "../shared/certified/certificate.js";
import {
  leaveNode,
  newRound,
  newTransfer,
  next,
  onChunks,
  onPoint,
  progress,
  restartFresh,
  type Changes,
} from "../shared/certified/replica-transfer.js";
import { parseChunksAnswer, parsePointAnswer } from "../shared/certified/transfer-wire.js";
import type { Certificate, ChunkRecord, ClusterConfig } from "../shared/certified/types.js";
import type { Env } from "../platform/env.js";
import { stateChunksOf, transferPointOf } from "../platform/pbft-node-stub.js";
import type { TransferStats } from "../shared/rpc/replica-stats.js";
import type { AdoptOutcome, TransferSink } from "./certified-replica.js";
import type { LocalState } from "../shared/certified/replica-transfer.js";
import { SqlTransferStore } from "./storage/sql-transfer-store.js";

/** How long one call to a node may take before the node counts as silent (ms). */
export const TRANSFER_CALL_DEADLINE_MS = 5_000;
/** Calls to nodes per alarm run at most (then the next run, at once). */
export const TRANSFER_CALLS_PER_RUN = 32;

/** The nodes asked, by index; every answer is untrusted text. */
export interface TransferSource {
  readonly ids: readonly string[];
  point(i: number): Promise<string>;
  chunks(i: number, seq: number, paths: string[], recordsMax: number): Promise<string>;
}

/** The replica's side (edge-replica.ts builds it over its CertifiedReplica and op log). */
export interface TransferTarget {
  /** The newest certified seq applied (also after a divergence). */
  head(): number;
  diverged(): boolean;
  local(): LocalState;
  cluster(): Promise<ClusterConfig>;
  adopt(certificate: Certificate, staged: [string, ChunkRecord[]][], fresh: boolean): AdoptOutcome;
}

/** The PBFT nodes of this deployment, through their stubs. */
export function transferNodes(env: Env): TransferSource {
  return {
    ids: PBFT_NODES.map((n) => n.id),
    point: (i) => transferPointOf(env, PBFT_NODES[i]!),
    chunks: (i, seq, paths, records) => stateChunksOf(env, PBFT_NODES[i]!, seq, paths, records),
  };
}

export class CertifiedTransfer {
  readonly stats: TransferStats = {
    started: 0,
    adopted: 0,
    nodesLeft: 0,
    chunksKept: 0,
    chunksRefused: 0,
    refusedAdoptions: 0,
    overtaken: 0,
  };
  private readonly store: SqlTransferStore;

  constructor(
    ctx: DurableObjectState,
    private readonly nodes: TransferSource,
    private readonly deadlineMs = TRANSFER_CALL_DEADLINE_MS,
  ) {
    this.store = new SqlTransferStore(ctx.storage);
  }

  /** Is a transfer in progress (stored)? */
  active(): boolean {
    return this.store.load() !== null;
  }

  /**
   * One run: start a transfer if none is stored, then ask, check, store, until it is adopted, every
   * node failed in a row (`wait`: the next period), or TRANSFER_CALLS_PER_RUN calls were made (true:
   * run again at once). Adopted: true too, so the normal catch-up follows at once.
   */
  async run(replica: string, t: TransferTarget): Promise<boolean> {
    const n = this.nodes.ids.length;
    let s = this.store.load();
    if (s === null) {
      s = newTransfer(n, Math.floor(Math.random() * n));
      this.store.start(s);
      this.stats.started++;
      console.log({ event: "certified_transfer_started", replica, head: t.head(), diverged: t.diverged() });
    }
    newRound(s);
    for (let calls = 0; calls < TRANSFER_CALLS_PER_RUN;) {
      if (s.target && !t.diverged() && t.head() >= s.target.body.seq) {
        // the queue or the catch-up brought the batches after all
        this.stats.overtaken++;
        this.store.clear();
        return true;
      }
      const ch: Changes = { paths: new Set(), head: false, kept: 0, refused: 0 };
      const step = next(s, t.local(), n, ch);
      this.store.write(s, ch);
      if (step.kind === "wait") {
        console.log({ event: "certified_transfer_waiting", replica, ...progress(s) });
        return false;
      }
      if (step.kind === "adopt") {
        const outcome = t.adopt(step.certificate, step.staged, step.fresh);
        if (outcome === "adopted" || outcome === "stale") {
          if (outcome === "adopted") this.stats.adopted++;
          this.store.clear();
          return true;
        }
        this.stats.refusedAdoptions++;
        this.store.write(s, restartFresh(s, t.local()));
        continue;
      }
      calls++;
      const node = this.nodes.ids[step.node]!;
      let text: string;
      try {
        text = await withDeadline(
          step.kind === "point"
            ? this.nodes.point(step.node)
            : this.nodes.chunks(step.node, step.seq, step.paths, step.records),
          this.deadlineMs,
          `${step.kind} from ${node}`,
        );
      } catch (e) {
        const left = leaveNode(s, n, `${step.kind}_silent`); // no answer, or a failed call
        this.note(replica, node, left, String(e));
        this.store.write(s, left);
        continue;
      }
      let done: Changes;
      if (step.kind === "point") {
        const a = parsePointAnswer(text);
        const verified = a.ok ? (await verifyCertificate(a.certificate, await t.cluster())).ok : false;
        done = onPoint(s, t.local(), n, t.head(), a.ok ? { ...a, verified } : a);
      } else done = onChunks(s, t.local(), n, parseChunksAnswer(text));
      this.note(replica, node, done);
      this.store.write(s, done);
    }
    return true;
  }

  private note(replica: string, node: string, ch: Changes, error?: string): void {
    this.stats.chunksKept += ch.kept;
    this.stats.chunksRefused += ch.refused;
    if (ch.left === undefined) return;
    this.stats.nodesLeft++;
    console.log({ event: "certified_transfer_node_left", replica, node, reason: ch.left, error });
  }
}
