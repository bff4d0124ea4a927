/**
 * The replica core's store in memory (plain Node, the simulator, the unit tests). Rows keep the JSON
 * texts the SQLite store writes, so a caller can't alias stored state, both stores give back the
 * same objects, and entry texts come out byte for byte alike. A transaction snapshots everything and
 * puts the snapshot back on a throw, as the host's `transactionSync` does.
 */
import type { Json } from "../canonical.js";
import type { OpStatus, TypeName } from "../datatypes/index.js";
import { formatHlc, parseHlc, type Hlc } from "../hlc.js";
import type { KeyRecord, PendingEffect } from "../materialize.js";
import type { SignedOp } from "../ops.js";
import type { ReplicatedOp } from "../replication.js";
import { entryText } from "./entry-text.js";
import type { ClientEvidence, ReplicaStateStore, StoredOp } from "./store.js";
import { SnapshotState } from "../memory-snapshot.js";

interface OpRow {
  /** Insertion order (the SQLite table's autoincrement key). */
  seq: number;
  origin: string;
  op: string;
  key: string;
  type: TypeName;
  status: OpStatus;
  reason: string | null;
  value: string;
  effect: string | null;
  opos: number | null;
  ts: number;
  certified: boolean;
}
interface ClientRow {
  maxSeq: number;
  pending: number;
  collectedSeq: number;
}
interface EvidenceRow {
  client: string;
  kept: string;
  other: string;
  refused: boolean;
  at: number;
}
interface State {
  meta: Map<string, string>;
  kv: Map<string, { type: TypeName; state: string }>;
  ops: Map<string, OpRow>;
  nextRowSeq: number;
  clients: Map<string, ClientRow>;
  superseded: Set<string>;
  evidence: Map<string, EvidenceRow>;
}

const empty = (): State => ({
  meta: new Map(),
  kv: new Map(),
  ops: new Map(),
  nextRowSeq: 1,
  clients: new Map(),
  superseded: new Set(),
  evidence: new Map(),
});

// rows are replaced, never mutated in place, so a shallow copy of each map is a snapshot
const copy = (s: State): State => ({
  meta: new Map(s.meta),
  kv: new Map(s.kv),
  ops: new Map(s.ops),
  nextRowSeq: s.nextRowSeq,
  clients: new Map(s.clients),
  superseded: new Set(s.superseded),
  evidence: new Map(s.evidence),
});

export class MemoryReplicaStore extends SnapshotState<State> implements ReplicaStateStore {
  constructor() {
    super(copy, empty());
  }

  /** An independent copy of everything stored: what a restart of the host finds. */
  clone(): MemoryReplicaStore {
    return this.copyInto(new MemoryReplicaStore());
  }

  /** The clock as last persisted (HLC_ZERO: never). */
  clock(): Hlc {
    return parseHlc(this.s.meta.get("hlc"));
  }
  putClock(h: Hlc): void {
    this.s.meta.set("hlc", formatHlc(h));
  }

  getRecord(key: string): KeyRecord | undefined {
    const r = this.s.kv.get(key);
    return r ? { type: r.type, state: JSON.parse(r.state) } : undefined;
  }
  putRecord(key: string, rec: KeyRecord): void {
    this.s.kv.set(key, { type: rec.type, state: JSON.stringify(rec.state) });
  }
  deleteRecord(key: string): void {
    this.s.kv.delete(key);
  }

  getOp(opId: string): StoredOp | undefined {
    const r = this.s.ops.get(opId);
    if (!r) return undefined;
    const out: StoredOp = {
      opId,
      origin: r.origin,
      op: JSON.parse(r.op),
      status: r.status,
      value: JSON.parse(r.value),
    };
    if (r.reason) out.reason = r.reason;
    return out;
  }
  hasOp(opId: string): boolean {
    return this.s.ops.has(opId);
  }
  insertOp(
    opId: string,
    origin: string,
    e: ReplicatedOp,
    value: Json,
    pos: number | null,
    certified = false,
  ): void {
    // the op id is the table's unique key: a second insert is a bug of the caller
    if (this.s.ops.has(opId)) throw new Error(`UNIQUE constraint failed: ops.op_id (${opId})`);
    this.s.ops.set(opId, {
      seq: this.s.nextRowSeq++,
      origin,
      ...rowOf(e, value),
      opos: pos,
      certified,
    });
  }
  replaceOp(opId: string, e: ReplicatedOp, value: Json): void {
    const r = this.s.ops.get(opId);
    if (r) this.s.ops.set(opId, { ...r, ...rowOf(e, value) });
  }
  getEffect(opId: string): unknown {
    const e = this.s.ops.get(opId)?.effect;
    return e == null ? null : JSON.parse(e);
  }
  pendingEffects(key: string, exceptOpId?: string): PendingEffect[] {
    return [...this.s.ops]
      .filter(([id, r]) => r.effect !== null && !r.certified && id !== exceptOpId && r.key === key)
      .map(([, r]) => ({ type: r.type, effect: JSON.parse(r.effect!) }));
  }
  isOpCertified(opId: string): boolean {
    return this.s.ops.get(opId)?.certified === true;
  }
  entryOf(opId: string): string | undefined {
    const r = this.s.ops.get(opId);
    return r && entryText(r);
  }
  nextOwnPos(): number {
    const pos = Number(this.s.meta.get("own_head") ?? "0") + 1;
    this.s.meta.set("own_head", String(pos));
    return pos;
  }

  clientMaxSeq(client: string): number {
    return this.s.clients.get(client)?.maxSeq ?? 0;
  }
  clientPending(client: string): number {
    return this.s.clients.get(client)?.pending ?? 0;
  }
  noteClientSeq(client: string, seq: number, pendingDelta: number): number {
    const c = this.s.clients.get(client);
    const next: ClientRow = c
      ? { ...c, maxSeq: Math.max(c.maxSeq, seq), pending: c.pending + pendingDelta }
      : { maxSeq: seq, pending: pendingDelta, collectedSeq: 0 };
    this.s.clients.set(client, next);
    return next.pending;
  }
  collectedSeq(client: string): number {
    return this.s.clients.get(client)?.collectedSeq ?? 0;
  }
  collectOps(
    origin: string,
    posMax: number,
    tsBefore: number,
    certifiedOnly: boolean,
    limit: number,
  ): number {
    const ids = [...this.s.ops]
      .filter(
        ([, r]) =>
          r.origin === origin &&
          r.opos !== null &&
          r.opos <= posMax &&
          r.ts < tsBefore &&
          (!certifiedOnly || r.certified),
      )
      .sort(([, a], [, b]) => a.seq - b.seq)
      .slice(0, Math.max(0, limit))
      .map(([id]) => id);
    for (const id of ids) {
      this.s.ops.delete(id);
      this.s.superseded.delete(id);
      const at = id.lastIndexOf(":");
      const client = id.slice(0, at);
      const c = this.s.clients.get(client);
      // as the SQLite UPDATE: a client without a row gets none
      if (c)
        this.s.clients.set(client, {
          ...c,
          collectedSeq: Math.max(c.collectedSeq, Number(id.slice(at + 1))),
        });
    }
    return ids.length;
  }

  markSuperseded(opId: string): void {
    this.s.superseded.add(opId);
  }
  unmarkSuperseded(opId: string): void {
    this.s.superseded.delete(opId);
  }
  isSuperseded(opId: string): boolean {
    return this.s.superseded.has(opId);
  }

  recordEvidence(kept: SignedOp, other: SignedOp, refused: boolean, atMs: number): void {
    const opId = `${kept.client}:${kept.seq}`;
    const held = this.s.evidence.get(opId);
    const row = { client: kept.client, kept: JSON.stringify(kept), other: JSON.stringify(other) };
    if (!held) this.s.evidence.set(opId, { ...row, refused, at: atMs });
    else if (refused) this.s.evidence.set(opId, { ...held, ...row, refused: true });
  }
  isEquivocationKnown(opId: string): boolean {
    return this.s.evidence.get(opId)?.refused === true;
  }
  isClientRefused(client: string): boolean {
    return [...this.s.evidence.values()].some((r) => r.client === client && r.refused);
  }
  evidenceOf(client: string, limit: number): ClientEvidence[] {
    return [...this.s.evidence]
      .filter(([, r]) => r.client === client)
      .sort(([, a], [, b]) => a.at - b.at)
      .slice(0, Math.max(0, limit))
      .map(([opId, r]) => ({
        opId,
        kept: JSON.parse(r.kept),
        other: JSON.parse(r.other),
        refused: r.refused,
        at: r.at,
      }));
  }
}

/** The columns an op's version fills (insert and replace alike). */
const rowOf = (e: ReplicatedOp, value: Json) => ({
  op: JSON.stringify(e.op),
  key: e.op.key,
  type: e.op.type,
  status: e.status,
  reason: e.reason ?? null,
  value: JSON.stringify(value),
  effect: e.effect === null ? null : JSON.stringify(e.effect),
  ts: e.op.ts,
});
