/**
 * Tampered STATE: a Byzantine node keeps a real stable checkpoint's proof (2f+1 valid signatures)
 * and changes what the state says. Some changes keep every visible value (register metadata, OR-set
 * tags): only a checkpoint that commits to each record's full state catches them. Others change
 * what the checkpoint digest visibly covers (executed ids, log root, op count, time, records).
 * Either way a correct node must refuse it; the world checks that none adopts one.
 */
import { canonicalJson } from "../../shared/canonical.js";
import type { CheckpointState } from "../../shared/pbft/digest.js";
import type { ExecutedIdsJson } from "../../shared/pbft/executed-ids.js";
import type { StateMsg } from "../../shared/pbft/messages.js";
import type { AdversaryMemory } from "./memory.js";
import type { Prng } from "./prng.js";

export const TAMPERS = [
  "register-ts-max",
  "register-ts-min",
  "register-writer",
  "orset-tags-renamed",
  "orset-future-removed",
  "executed-future",
  "executed-dropped",
  "scalars",
  "extra-record",
] as const;
export type Tamper = (typeof TAMPERS)[number];

type Rec = [key: string, type: string, state: unknown];
interface Snap {
  format: string;
  records: Rec[];
}

/** How many op ids past the highest seen per client a forged tag or executed id covers. */
const FUTURE_SEQS = 40;

/** The STATE with one tamper applied, or null if this state gives the tamper nothing to change. */
export function tamperState(msg: StateMsg, mem: AdversaryMemory, rng: Prng): StateMsg | null {
  const start = rng.int(0, TAMPERS.length - 1);
  // Try each tamper from a random start: the first one that changes something.
  for (let i = 0; i < TAMPERS.length; i++) {
    const kind = TAMPERS[(start + i) % TAMPERS.length]!;
    const state = structuredClone(msg.state) as CheckpointState;
    apply(kind, state, mem, rng);
    if (canonicalJson(state) !== canonicalJson(msg.state)) return { ...msg, state };
  }
  return null;
}

function apply(kind: Tamper, st: CheckpointState, mem: AdversaryMemory, rng: Prng): void {
  const snap = st.sm as unknown as Snap;
  const records = snap && Array.isArray(snap.records) ? snap.records : [];
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
    case "executed-future": {
      const json = new Map(st.executed.map(([c, floor, above]) => [c, { floor, above }]));
      for (const [client, max] of mem.clientSeqMax) {
        const e = json.get(client) ?? { floor: 0, above: [] };
        e.above = [...new Set([...e.above, max + 1, max + 2])]
          .filter((q) => q > e.floor)
          .sort((a, b) => a - b);
        json.set(client, e);
      }
      st.executed = [...json]
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([c, e]) => [c, e.floor, e.above]) as ExecutedIdsJson;
      return;
    }
    case "executed-dropped":
      if (st.executed.length) st.executed.splice(rng.int(0, st.executed.length - 1), 1);
      return;
    case "scalars":
      if (rng.chance(0.4)) st.opCount += 1;
      else if (rng.chance(0.5)) st.time += 1;
      else st.logRoot = (st.logRoot[0] === "0" ? "1" : "0") + st.logRoot.slice(1);
      return;
    case "extra-record":
      if (snap && Array.isArray(snap.records)) {
        snap.records.push(["~forged", "counter", 1_000]);
        snap.records.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      }
      return;
  }
}

function futureOpIds(mem: AdversaryMemory): string[] {
  const out: string[] = [];
  for (const [client, max] of mem.clientSeqMax)
    for (let q = max + 1; q <= max + FUTURE_SEQS; q++) out.push(`${client}:${q}`);
  return out;
}
