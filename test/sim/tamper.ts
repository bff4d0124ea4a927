/**
 * Tampered state transfer: a Byzantine node serves chunks of a real stable checkpoint (whose proof
 * has 2f+1 valid signatures) and changes what a chunk says. Some changes keep every visible value
 * (register metadata, OR-set tags, executed-ids records): only a state root that commits to each
 * record's full state catches them. Others drop, add or move records, or change a split's hashes.
 * Either way a correct node must refuse the chunk; the world checks that none keeps one.
 */
import { canonicalJson } from "../../shared/canonical.js";
import { EXECUTED_PREFIX } from "../../shared/certified/executed.js";
import type { ChunkRecord } from "../../shared/certified/types.js";
import type { StateChunkMsg } from "../../shared/pbft/messages.js";
import type { AdversaryMemory } from "./memory.js";
import type { Prng } from "./prng.js";

export const TAMPERS = [
  "register-ts-max",
  "register-ts-min",
  "register-writer",
  "orset-tags-renamed",
  "orset-future-removed",
  "executed-future",
  "executed-dropped-gap",
  "record-dropped",
  "extra-record",
  "split-hash",
] as const;
export type Tamper = (typeof TAMPERS)[number];

/** How many op ids past the highest seen per client a forged tag covers. */
const FUTURE_SEQS = 40;

/** The chunk with one tamper applied, or null if this chunk gives no tamper anything to change. */
export function tamperChunk(msg: StateChunkMsg, mem: AdversaryMemory, rng: Prng): StateChunkMsg | null {
  const start = rng.int(0, TAMPERS.length - 1);
  for (let i = 0; i < TAMPERS.length; i++) {
    const kind = TAMPERS[(start + i) % TAMPERS.length]!;
    const chunk = structuredClone(msg.chunk);
    apply(kind, chunk, mem, rng);
    if (canonicalJson(chunk) !== canonicalJson(msg.chunk)) return { ...msg, chunk };
  }
  return null;
}

function apply(kind: Tamper, chunk: StateChunkMsg["chunk"], mem: AdversaryMemory, rng: Prng): void {
  if ("split" in chunk) {
    if (kind === "split-hash") {
      const i = rng.int(0, 1);
      const h = chunk.split[i]!;
      chunk.split[i] = (h[0] === "0" ? "1" : "0") + h.slice(1);
    }
    return;
  }
  const records: ChunkRecord[] = chunk.records;
  const ofType = (t: string) => records.filter((r) => r[1] === t && r[2] !== null);
  switch (kind) {
    case "register-ts-max":
      for (const r of ofType("register")) (r[2] as { ts: number }).ts = Number.MAX_SAFE_INTEGER;
      return;
    case "register-ts-min":
      for (const r of ofType("register")) (r[2] as { ts: number }).ts = 0;
      return;
    case "register-writer":
      for (const r of ofType("register")) {
        const s = r[2] as { client: string; seq: number };
        s.client = "~forged";
        s.seq = Number.MAX_SAFE_INTEGER;
      }
      return;
    case "orset-tags-renamed":
      // Same visible elements, other tags: a later remove decided here removes different tags.
      for (const r of ofType("set")) {
        const s = r[2] as { adds: Record<string, string[]>; removed: string[] };
        const removed = new Set(s.removed);
        for (const [x, tags] of Object.entries(s.adds))
          if (tags.some((t) => !removed.has(t))) s.adds[x] = [`forged:${rng.int(1, 1e6)}`];
      }
      return;
    case "orset-future-removed": {
      // Tags of adds not issued yet, marked removed: those adds are dead on arrival here only.
      const future = futureOpIds(mem);
      for (const r of ofType("set")) {
        const s = r[2] as { removed: string[] };
        s.removed = [...new Set([...s.removed, ...future])].sort();
      }
      return;
    }
    case "executed-future":
      // Ops not issued yet marked executed: this node would never execute them.
      for (const r of records)
        if (r[0].startsWith(EXECUTED_PREFIX)) {
          const e = r[2] as { floor: number; above: number[] };
          const max = Math.max(e.floor, ...e.above);
          e.above = [...e.above, max + 2, max + 3];
        }
      return;
    case "executed-dropped-gap":
      for (const r of records)
        if (r[0].startsWith(EXECUTED_PREFIX)) {
          const e = r[2] as { floor: number; above: number[] };
          if (e.floor > 1) e.floor -= 1;
        }
      return;
    case "record-dropped":
      if (records.length > 1) records.splice(rng.int(0, records.length - 1), 1);
      return;
    case "extra-record":
      records.push(["~forged", "counter", 1_000]);
      return;
    case "split-hash":
      return;
  }
}

function futureOpIds(mem: AdversaryMemory): string[] {
  const out: string[] = [];
  for (const [client, max] of mem.clientSeqMax)
    for (let q = max + 1; q <= max + FUTURE_SEQS; q++) out.push(`${client}:${q}`);
  return out;
}
