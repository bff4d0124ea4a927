/**
 * The follower's stores in memory (plain Node, the simulator, the unit tests). Values are kept as
 * the JSON text the SQLite store writes, so a caller can't alias stored state and both stores give
 * back the same objects. A transaction snapshots everything and puts the snapshot back on a throw
 * (nested transactions each keep their own snapshot).
 */
import { canonicalJson } from "../canonical.js";
import { MemoryNodeStore } from "../certified/node-store.js";
import { MemoryRecordStore } from "../certified/record-store.js";
import type { CertifiedStores } from "../certified/state-machine.js";
import type { Certificate, Digest } from "../certified/types.js";
import type { BufferedBatch, FollowerStore, StoredResult } from "./store.js";
import type { Head } from "./types.js";
import { SnapshotState } from "../memory-snapshot.js";

interface State {
  head: string | undefined;
  certificates: Map<number, string>;
  results: Map<string, { seq: number; text: string }>;
  resultSeqs: Map<number, number>;
  buffer: Map<number, Map<Digest, string>>;
  records: MemoryRecordStore;
  nodes: MemoryNodeStore;
}

const empty = (): State => ({
  head: undefined,
  certificates: new Map(),
  results: new Map(),
  resultSeqs: new Map(),
  buffer: new Map(),
  // a replica's certified state keeps no record history (it never serves an older version)
  records: new MemoryRecordStore({ history: false }),
  nodes: new MemoryNodeStore(),
});

const copy = (s: State): State => ({
  head: s.head,
  certificates: new Map(s.certificates),
  results: new Map(s.results),
  resultSeqs: new Map(s.resultSeqs),
  buffer: new Map([...s.buffer].map(([seq, m]) => [seq, new Map(m)])),
  records: s.records.clone(),
  nodes: s.nodes.clone(),
});

export class MemoryFollowerStore extends SnapshotState<State> implements FollowerStore {
  constructor() {
    super(copy, empty());
  }

  /** An independent copy of everything stored: what a restart of the host finds. */
  clone(): MemoryFollowerStore {
    return this.copyInto(new MemoryFollowerStore());
  }

  openState(): CertifiedStores {
    return { records: this.s.records, nodes: this.s.nodes };
  }

  wipeState(): void {
    this.s.records = new MemoryRecordStore({ history: false });
    this.s.nodes = new MemoryNodeStore();
  }

  head(): Head | undefined {
    return this.s.head === undefined ? undefined : (JSON.parse(this.s.head) as Head);
  }

  putHead(h: Head): void {
    this.s.head = JSON.stringify(h);
  }

  putCertificate(certificate: Certificate): void {
    this.s.certificates.set(certificate.body.seq, canonicalJson(certificate));
  }

  certificate(seq: number): Certificate | undefined {
    const t = this.s.certificates.get(seq);
    return t === undefined ? undefined : (JSON.parse(t) as Certificate);
  }

  latestCertificate(): Certificate | undefined {
    let top = -Infinity;
    for (const seq of this.s.certificates.keys()) if (seq > top) top = seq;
    return this.certificate(top);
  }

  dropCertificatesThrough(seq: number): void {
    for (const s of [...this.s.certificates.keys()])
      if (s <= seq && !this.s.resultSeqs.has(s)) this.s.certificates.delete(s);
  }

  putResults(seq: number, time: number, results: readonly Omit<StoredResult, "seq">[]): void {
    if (results.length === 0) return; // a seq without results keeps no certificate for them
    for (const r of results)
      this.s.results.set(r.result.opId, { seq, text: JSON.stringify({ result: r.result, proof: r.proof }) });
    this.s.resultSeqs.set(seq, time);
  }

  result(opId: string): StoredResult | undefined {
    const row = this.s.results.get(opId);
    if (!row) return undefined;
    const { result, proof } = JSON.parse(row.text) as Omit<StoredResult, "seq">;
    return { seq: row.seq, result, proof };
  }

  resultSeqBefore(time: number): number | null {
    let top: number | null = null;
    for (const [seq, t] of this.s.resultSeqs) if (t < time && (top === null || seq > top)) top = seq;
    return top;
  }

  dropResultsThrough(seq: number): void {
    for (const [id, row] of [...this.s.results]) if (row.seq <= seq) this.s.results.delete(id);
    for (const s of [...this.s.resultSeqs.keys()]) if (s <= seq) this.s.resultSeqs.delete(s);
  }

  bufferHas(seq: number, digest: Digest): boolean {
    return this.s.buffer.get(seq)?.has(digest) ?? false;
  }

  bufferCount(seq: number): number {
    return this.s.buffer.get(seq)?.size ?? 0;
  }

  bufferPut(seq: number, batch: BufferedBatch): void {
    let m = this.s.buffer.get(seq);
    if (!m) this.s.buffer.set(seq, (m = new Map()));
    m.set(batch.digest, batch.text);
  }

  bufferAt(seq: number): BufferedBatch[] {
    const m = this.s.buffer.get(seq);
    if (!m) return [];
    return [...m.keys()].sort().map((digest) => ({ digest, text: m.get(digest)! }));
  }

  bufferDropThrough(seq: number): void {
    for (const s of [...this.s.buffer.keys()]) if (s <= seq) this.s.buffer.delete(s);
  }

  bufferDropSeq(seq: number): void {
    this.s.buffer.delete(seq);
  }

  bufferClear(): void {
    this.s.buffer.clear();
  }

  bufferSize(): number {
    let n = 0;
    for (const m of this.s.buffer.values()) n += m.size;
    return n;
  }
}
