/**
 * A simulated replica's store: the product's `MemoryReplicaStore` (every decision of the replica
 * core reads and writes it) with the few things the EdgeReplica's SQLite store has beyond the
 * `ReplicaStateStore` interface, MODELLED here because the memory store lacks them:
 * `markCertified` and `pendingEffects` (durable-objects/replica-store.ts: what the shell's
 * certification rebase uses), and the origin's own log by position (the outbox the shell drains,
 * re-sends and serves to anti-entropy pulls). It mirrors each op row the core writes (insert,
 * replace) and owns the rows' certified marks.
 *
 * Everything here counts as durable: a crash of the simulated replica keeps it (what a committed
 * SQLite transaction keeps); a transaction that throws leaves none of its writes, here or inside.
 */
import type { Json } from "../../../shared/canonical.js";
import type { TypeName } from "../../../shared/datatypes/index.js";
import type { Hlc } from "../../../shared/hlc.js";
import type { KeyRecord, PendingEffect } from "../../../shared/materialize.js";
import { opIdOf, type SignedOp } from "../../../shared/ops.js";
import { MemoryReplicaStore } from "../../../shared/replica/memory-store.js";
import type { ClientEvidence, ReplicaStateStore, StoredOp } from "../../../shared/replica/store.js";
import type { ReplicatedOp } from "../../../shared/replication.js";

/** What the model keeps of one op row (the row itself is the memory store's). */
interface RowMirror {
  origin: string;
  key: string;
  type: TypeName;
  /** The effect, parsed once (null: none). Never mutated: the data types' `apply` is pure. */
  effect: unknown;
  certified: boolean;
  pos: number | null;
}

interface Mirror {
  rows: Map<string, RowMirror>;
  /** This replica's own log: position → op id. */
  own: Map<number, string>;
}

const copy = (m: Mirror): Mirror => ({ rows: new Map(m.rows), own: new Map(m.own) });

export class SimReplicaStore implements ReplicaStateStore {
  private readonly inner = new MemoryReplicaStore();
  private m: Mirror = { rows: new Map(), own: new Map() };
  /** Transactions committed so far: the checks skip a replica whose stores did not change. */
  commits = 0;

  constructor(private readonly me: string) {}

  transaction<T>(body: () => T): T {
    const saved = copy(this.m);
    try {
      const out = this.inner.transaction(body);
      this.commits++;
      return out;
    } catch (e) {
      this.m = saved;
      throw e;
    }
  }

  clock(): Hlc {
    return this.inner.clock();
  }

  // --- the model of the SQLite store's extra methods ---

  /**
   * An op of the certified order: mark its row certified (if held and not yet) and, if it was
   * accepted here, take it off its client's uncertified count. Returns the key of the row it marked
   * (the version held here, which may name another key than the certified one).
   */
  markCertified(op: Pick<SignedOp, "client" | "seq">): string | undefined {
    const opId = opIdOf(op);
    const r = this.m.rows.get(opId);
    if (!r || r.certified) return undefined;
    this.m.rows.set(opId, { ...r, certified: true });
    if (r.origin === this.me && this.inner.clientPending(op.client) > 0)
      this.inner.noteClientSeq(op.client, op.seq, -1);
    return r.key;
  }

  /** The effects of every key's uncertified ops, in row order (as the SQLite scan returns them). */
  pendingByKey(): Map<string, PendingEffect[]> {
    const out = new Map<string, PendingEffect[]>();
    for (const r of this.m.rows.values()) {
      if (r.certified || r.effect === null) continue;
      let list = out.get(r.key);
      if (!list) out.set(r.key, (list = []));
      list.push({ type: r.type, effect: r.effect });
    }
    return out;
  }

  pendingEffects(key: string, exceptOpId?: string): PendingEffect[] {
    if (exceptOpId === undefined) return this.pendingByKey().get(key) ?? [];
    const out: PendingEffect[] = [];
    for (const [id, r] of this.m.rows)
      if (id !== exceptOpId && !r.certified && r.effect !== null && r.key === key)
        out.push({ type: r.type, effect: r.effect });
    return out;
  }

  /** Own ops with position in `(after, through]`, as log entries with their position. */
  ownEntries(after: number, through: number, limit: number): ReplicatedOp[] {
    const out: ReplicatedOp[] = [];
    for (let pos = after + 1; pos <= through && out.length < limit; pos++) {
      const id = this.m.own.get(pos);
      const text = id === undefined ? undefined : this.inner.entryOf(id);
      if (text !== undefined) out.push({ ...(JSON.parse(text) as ReplicatedOp), pos });
    }
    return out;
  }

  /** Highest position of this replica's own log (0: none). */
  ownHead(): number {
    return this.m.own.size;
  }

  /** Own ops accepted here and not certified yet, oldest first. */
  uncertifiedOwn(): { pos: number; op: SignedOp }[] {
    const out: { pos: number; op: SignedOp }[] = [];
    for (const [pos, id] of this.m.own) {
      if (this.m.rows.get(id)?.certified) continue;
      const op = this.inner.getOp(id)?.op;
      if (op) out.push({ pos, op });
    }
    return out;
  }

  /** Rows held, for the trace. */
  get rowCount(): number {
    return this.m.rows.size;
  }

  // --- ReplicaStateStore: the memory store, with rows mirrored ---

  getRecord(key: string): KeyRecord | undefined {
    return this.inner.getRecord(key);
  }
  putRecord(key: string, rec: KeyRecord): void {
    this.inner.putRecord(key, rec);
  }
  deleteRecord(key: string): void {
    this.inner.deleteRecord(key);
  }
  getOp(opId: string): StoredOp | undefined {
    return this.inner.getOp(opId);
  }
  hasOp(opId: string): boolean {
    return this.inner.hasOp(opId);
  }
  insertOp(
    opId: string,
    origin: string,
    e: ReplicatedOp,
    value: Json,
    pos: number | null,
    certified = false,
  ): void {
    this.inner.insertOp(opId, origin, e, value, pos, certified);
    this.m.rows.set(opId, { ...mirrorOf(e), origin, certified, pos });
    if (origin === this.me && pos !== null) this.m.own.set(pos, opId);
  }
  replaceOp(opId: string, e: ReplicatedOp, value: Json): void {
    this.inner.replaceOp(opId, e, value);
    const r = this.m.rows.get(opId);
    if (r) this.m.rows.set(opId, { ...r, ...mirrorOf(e) });
  }
  getEffect(opId: string): unknown {
    return this.inner.getEffect(opId);
  }
  isOpCertified(opId: string): boolean {
    // the mirror owns the marks: the memory store knows only the mark an insert set
    return this.m.rows.get(opId)?.certified === true;
  }
  entryOf(opId: string): string | undefined {
    return this.inner.entryOf(opId);
  }
  nextOwnPos(): number {
    return this.inner.nextOwnPos();
  }
  clientMaxSeq(client: string): number {
    return this.inner.clientMaxSeq(client);
  }
  clientPending(client: string): number {
    return this.inner.clientPending(client);
  }
  noteClientSeq(client: string, seq: number, pendingDelta: number): number {
    return this.inner.noteClientSeq(client, seq, pendingDelta);
  }
  collectedSeq(client: string): number {
    return this.inner.collectedSeq(client);
  }
  collectOps(
    origin: string,
    posMax: number,
    tsBefore: number,
    certifiedOnly: boolean,
    limit: number,
  ): number {
    // the delivery core's bounds, applied by the memory store; its rows gone, their mirrors go too
    // (runs are shorter than the default dedupe horizon: in practice nothing is old enough yet)
    const n = this.inner.collectOps(origin, posMax, tsBefore, certifiedOnly, limit);
    if (n > 0) for (const id of [...this.m.rows.keys()]) if (!this.inner.hasOp(id)) this.m.rows.delete(id);
    return n;
  }
  markSuperseded(opId: string): void {
    this.inner.markSuperseded(opId);
  }
  unmarkSuperseded(opId: string): void {
    this.inner.unmarkSuperseded(opId);
  }
  isSuperseded(opId: string): boolean {
    return this.inner.isSuperseded(opId);
  }
  recordEvidence(kept: SignedOp, other: SignedOp, refused: boolean, atMs: number): void {
    this.inner.recordEvidence(kept, other, refused, atMs);
  }
  isEquivocationKnown(opId: string): boolean {
    return this.inner.isEquivocationKnown(opId);
  }
  isClientRefused(client: string): boolean {
    return this.inner.isClientRefused(client);
  }
  evidenceOf(client: string, limit: number): ClientEvidence[] {
    return this.inner.evidenceOf(client, limit);
  }
  putClock(h: Hlc): void {
    this.inner.putClock(h);
  }
}

const mirrorOf = (e: ReplicatedOp) => ({
  key: e.op.key,
  type: e.op.type,
  // a copy of its own: the caller's entry object is not the store's
  effect: e.effect === null ? null : structuredClone(e.effect),
});
