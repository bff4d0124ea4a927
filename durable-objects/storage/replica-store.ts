/**
 * The EdgeReplica's SQLite store: the replica core's store (shared/replica/store.ts, the same
 * acceptance suite as the memory one) over the tables of replica-schema.ts, composed of one part
 * per table: the tentative records, the op log by op id and by origin and position, the clients,
 * the evidence. The core sees the interface alone; the shell, delivery and the certified side use
 * the parts directly (`records`, `ops`, `logs`, …) for what the core never asks. All state lives
 * here, not in memory: a replica holds any number of keys and ops in bounded memory, and survives
 * eviction and restart as is.
 */
import type { Json } from "../../shared/canonical.js";
import { formatHlc, type Hlc } from "../../shared/hlc.js";
import type { KeyRecord, PendingEffect } from "../../shared/materialize.js";
import type { SignedOp } from "../../shared/ops.js";
import type { ClientEvidence, ReplicaStateStore, StoredOp } from "../../shared/replica/store.js";
import type { ReplicatedOp } from "../../shared/replication.js";
import { ReplicaClients } from "./replica-clients.js";
import { ReplicaEvidence } from "./replica-evidence.js";
import { ReplicaOpLog } from "./replica-op-log.js";
import { ReplicaOriginLogs } from "./replica-origin-logs.js";
import { ReplicaRecords } from "./replica-records.js";
import { openReplicaSchema } from "./replica-schema.js";

export class ReplicaStore implements ReplicaStateStore {
  /** The tentative state by key (`kv`). */
  readonly records: ReplicaRecords;
  /** Per client: seq window, uncertified count, collected seq (`clients`). */
  readonly clients: ReplicaClients;
  /** The op log by op id, and the superseded marks (`ops`, `superseded_ops`). */
  readonly ops: ReplicaOpLog;
  /** The op log by origin and position: this replica's own log is its outbox. */
  readonly logs: ReplicaOriginLogs;
  /** Two ops a client signed under one op id (`client_evidence`). */
  readonly evidence: ReplicaEvidence;

  constructor(private readonly sql: SqlStorage) {
    openReplicaSchema(sql);
    this.records = new ReplicaRecords(sql);
    this.clients = new ReplicaClients(sql);
    this.ops = new ReplicaOpLog(sql, this.clients);
    this.logs = new ReplicaOriginLogs(sql, this, this.clients);
    this.evidence = new ReplicaEvidence(sql);
  }

  getMeta(k: string): string | undefined {
    return this.sql.exec<{ v: string }>("SELECT v FROM meta WHERE k = ?", k).toArray()[0]?.v;
  }
  setMeta(k: string, v: string): void {
    this.sql.exec("INSERT INTO meta (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v", k, v);
  }

  // --- ReplicaStateStore, each the part's own ---------------------------------------------------

  /** The hybrid logical clock (meta `hlc`); `parseHlc` reads it back. */
  putClock(h: Hlc): void {
    this.setMeta("hlc", formatHlc(h));
  }

  getRecord(key: string): KeyRecord | undefined {
    return this.records.get(key);
  }
  putRecord(key: string, rec: KeyRecord): void {
    this.records.putMany([[key, rec]]);
  }
  deleteRecord(key: string): void {
    this.records.delete(key);
  }

  getOp(opId: string): StoredOp | undefined {
    return this.ops.get(opId);
  }
  hasOp(opId: string): boolean {
    return this.ops.has(opId);
  }
  insertOp(
    opId: string,
    origin: string,
    e: ReplicatedOp,
    value: Json,
    pos: number | null,
    certified = false,
  ) {
    this.ops.insert(opId, origin, e, value, pos, certified);
  }
  replaceOp(opId: string, e: ReplicatedOp, value: Json): void {
    this.ops.replace(opId, e, value);
  }
  getEffect(opId: string): unknown {
    return this.ops.effect(opId);
  }
  pendingEffects(key: string, exceptOpId = ""): PendingEffect[] {
    return this.ops.pendingEffectsOf([key], exceptOpId).get(key) ?? [];
  }
  isOpCertified(opId: string): boolean {
    return this.ops.isCertified(opId);
  }
  entryOf(opId: string): string | undefined {
    return this.ops.entryOf(opId);
  }
  nextOwnPos(): number {
    return this.logs.nextOwnPos();
  }
  collectOps(
    origin: string,
    posMax: number,
    tsBefore: number,
    certifiedOnly: boolean,
    limit: number,
  ): number {
    return this.logs.collect(origin, posMax, tsBefore, certifiedOnly, limit);
  }

  clientMaxSeq(client: string): number {
    return this.clients.maxSeq(client);
  }
  clientPending(client: string): number {
    return this.clients.pending(client);
  }
  noteClientSeq(client: string, seq: number, pendingDelta: number): number {
    return this.clients.noteSeq(client, seq, pendingDelta);
  }
  collectedSeq(client: string): number {
    return this.clients.collectedSeq(client);
  }

  markSuperseded(opId: string): void {
    this.ops.markSuperseded(opId);
  }
  unmarkSuperseded(opId: string): void {
    this.ops.unmarkSuperseded(opId);
  }
  isSuperseded(opId: string): boolean {
    return this.ops.isSuperseded(opId);
  }

  recordEvidence(kept: SignedOp, other: SignedOp, refused: boolean, atMs: number): void {
    this.evidence.record(kept, other, refused, atMs);
  }
  isEquivocationKnown(opId: string): boolean {
    return this.evidence.isEquivocationKnown(opId);
  }
  isClientRefused(client: string): boolean {
    return this.evidence.isClientRefused(client);
  }
  evidenceOf(client: string, limit: number): ClientEvidence[] {
    return this.evidence.of(client, limit);
  }
}
