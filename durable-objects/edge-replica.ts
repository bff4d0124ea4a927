/**
 * EdgeReplica: one eventually-consistent replica (docs/architecture.md). A shell around pure code in
 * shared/: what a write or a peer's ops come to is decided by the replica core (shared/replica/:
 * `submitOp`, `screenEntries` / `applyEntries`) over this replica's SQLite store. Each RPC here
 * names its part: the write path (replica-writes.ts: verify, step in one SQLite transaction, schedule
 * the send, reply signed), the reads (replica-reads.ts, replica-reads-pages.ts), the peer side
 * (replica-peers.ts), refusals signed as data (signed-refusal.ts), stats (replica-stats.ts), all over
 * one `ReplicaParts` (replica-parts.ts). Its one alarm drains the outbox, re-sends, reconciles with
 * peers and collects the op log (delivery.ts). The name is bound by the first call (named-object.ts).
 */
import "./native-sha256.js";
import { FAULT_INJECTION_OFF, faultInjectionAllowed } from "../shared/config.js";
import type { ListQuery } from "../shared/kv-list.js";
import { opIdOf, type SignedOp } from "../shared/ops.js";
import type {
  CertificateReply,
  CertifiedReadReply,
  EvidenceReply,
  ListReply,
  NamespacesReply,
  OpReply,
  OpStatusReply,
  ReadReply,
} from "../shared/replies.js";
import type { Env } from "../platform/env.js";
import type { FaultSettings } from "../shared/rpc/fault-settings.js";
import type { CertifiedHead, ReplicaRpc, RpcResult } from "../shared/rpc/replica.js";
import type { ReplicaStats } from "../shared/rpc/replica-stats.js";
import type { CertificationStats, CertReport } from "./certified-replica.js";
import { NamedObject } from "./named-object.js";
import { ReplicaParts } from "./replica-parts.js";
import * as peers from "./replica-peers.js";
import * as pages from "./replica-reads-pages.js";
import * as reads from "./replica-reads.js";
import { replicaStats } from "./replica-stats.js";
import * as writes from "./replica-writes.js";
import { guard } from "./signed-refusal.js";

export class EdgeReplica extends NamedObject<Env> implements ReplicaRpc {
  protected readonly kind = "replica";
  /** Earlier versions kept the name in meta `name`. */
  protected override legacyName = () => this.parts.store.getMeta("name");

  private readonly parts = new ReplicaParts(this.ctx, this.env, {
    bind: (name) => this.bindName(name),
    bound: () => this.boundName,
  });

  /** POST /v1/ops: accept a client's op at once (the critical path). */
  async submit(name: string, op: SignedOp, nonce?: string): Promise<RpcResult<OpReply>> {
    return guard(this.parts, { opId: opIdOf(op), nonce }, () => writes.submit(this.parts, name, op, nonce));
  }

  /** POST /v1/ops/batch: every op decided in order in one transaction, each answered as `submit` would. */
  async submitMany(
    name: string,
    ops: readonly SignedOp[],
    nonce?: string,
  ): Promise<RpcResult<RpcResult<OpReply>[]>> {
    return guard(this.parts, { nonce }, () => writes.submitMany(this.parts, name, ops, nonce));
  }

  /** GET /v1/kv?prefix=&cursor=&limit=: one page of keys, each with its certified value. */
  async list(name: string, query: ListQuery, nonce?: string): Promise<RpcResult<ListReply>> {
    return guard(this.parts, { nonce }, () => pages.list(this.parts, name, query, nonce));
  }

  /** GET /v1/clients/:client/evidence: what this replica holds against a client. */
  async evidence(name: string, client: string, nonce?: string): Promise<RpcResult<EvidenceReply>> {
    return guard(this.parts, { nonce }, () => pages.evidence(this.parts, name, client, nonce));
  }

  /** GET /v1/namespaces: a page of the namespace records held here (the dashboard's panel). */
  async namespaces(name: string, after: string, nonce?: string): Promise<RpcResult<NamespacesReply>> {
    return guard(this.parts, { nonce }, () => pages.namespaces(this.parts, name, after, nonce));
  }

  /** GET /v1/kv/:key: the tentative value, and the certified one with its proof. */
  async read(name: string, key: string, nonce?: string): Promise<RpcResult<ReadReply>> {
    return guard(this.parts, { key, nonce }, () => reads.read(this.parts, name, key, nonce));
  }

  /** GET /v1/kv/:key?view=certified: the certified value and proof alone (cacheable per seq). */
  async certifiedRead(name: string, key: string, nonce?: string): Promise<RpcResult<CertifiedReadReply>> {
    return guard(this.parts, { key, nonce }, () => reads.certifiedRead(this.parts, name, key, nonce));
  }

  /** GET /v1/ops/:id: this replica's outcome of an op, tentative and certified (with its proof). */
  async opStatus(name: string, opId: string, nonce?: string): Promise<RpcResult<OpStatusReply>> {
    return guard(this.parts, { opId, nonce }, () => reads.opStatus(this.parts, name, opId, nonce));
  }

  async certificate(name: string, seq: number | null, nonce?: string): Promise<RpcResult<CertificateReply>> {
    return guard(this.parts, { nonce }, () => reads.certificate(this.parts, name, seq, nonce));
  }

  /** A certified batch's wire text (shared/wire/certified-batch.ts), from the queue, a node or catch-up. */
  async receiveCertified(name: string, text: string): Promise<CertReport> {
    return peers.receiveCertified(this.parts, name, text);
  }

  async certificationStats(): Promise<CertificationStats> {
    return this.parts.certified.stats();
  }

  /** The newest certified seq applied here, and whether its certified values can be served. */
  async certifiedHead(name: string): Promise<CertifiedHead> {
    return peers.certifiedHead(this.parts, name);
  }

  /** Ops from another replica, via the replicate queue (idempotent by op id). */
  async applyRemote(name: string, text: string): Promise<string> {
    return peers.applyRemote(this.parts, name, text);
  }

  /** The one alarm: outbox drain, re-send, anti-entropy, log collection (durable-objects/delivery.ts). */
  override async alarm(): Promise<void> {
    const name = this.boundName;
    if (name === null) return;
    await this.parts.identity(name);
    await this.parts.delivery.alarm(name, (origin, entries) =>
      peers.applyEntries(this.parts, name, origin, entries),
    );
  }

  async opsSince(name: string, requester: string, after: number, limit: number): Promise<string> {
    return peers.opsSince(this.parts, name, requester, after, limit);
  }

  async confirm(name: string, text: string): Promise<void> {
    return peers.confirm(this.parts, name, text);
  }

  async noteDeadLetter(name: string, count: number): Promise<void> {
    return peers.noteDeadLetter(this.parts, name, count);
  }

  async setFaults(name: string, token: string, faults: FaultSettings): Promise<FaultSettings> {
    await this.parts.identity(name);
    if (!faultInjectionAllowed(this.env, token) || !this.parts.faults) throw new Error(FAULT_INJECTION_OFF);
    return this.parts.faults.set(faults);
  }

  async stats(): Promise<ReplicaStats> {
    return replicaStats(this.parts);
  }
}
