/**
 * Which ops the certified order has executed, so that an op is executed (and certified) once
 * whatever batch, view or node proposes it again. Per client: every seq ≤ `floor` is executed, plus
 * the seqs above it (the gaps a client left behind). Kept in the certified state itself, one record
 * per client under a reserved key, so the state root commits to it (a node adopting a checkpoint
 * gets the same dedupe state as the nodes that executed the log) and state transfer moves it in
 * chunks like any record. Reserved keys start with U+0000, which no user key can contain.
 */

const isNat = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

export const EXECUTED_PREFIX = "\u0000executed/";
/** The record type of an executed-ids entry (not a data type). */
export const EXECUTED_TYPE = "executed";

export interface ExecutedEntry {
  floor: number;
  /** Ascending, all > floor + 1. */
  above: number[];
}

export const executedKey = (client: string): string => EXECUTED_PREFIX + client;
export const isExecutedKey = (key: string): boolean => key.startsWith(EXECUTED_PREFIX);

export const EMPTY_ENTRY: ExecutedEntry = { floor: 0, above: [] };

export function entryHas(e: ExecutedEntry, seq: number): boolean {
  if (seq <= e.floor) return true;
  // binary search: `above` can hold a Byzantine client's many gaps
  let lo = 0;
  let hi = e.above.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = e.above[mid]!;
    if (v === seq) return true;
    if (v < seq) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/** The entry with `seq` added (a new object; the input is not changed). */
export function entryAdd(e: ExecutedEntry, seq: number): ExecutedEntry {
  if (entryHas(e, seq)) return e;
  const above = e.above.slice();
  let i = above.length;
  while (i > 0 && above[i - 1]! > seq) i--;
  above.splice(i, 0, seq);
  let floor = e.floor;
  let k = 0;
  while (k < above.length && above[k] === floor + 1) {
    floor++;
    k++;
  }
  return { floor, above: k === 0 ? above : above.slice(k) };
}

/** A well-formed entry (from a peer's chunk: the hash check comes after, this only guards the code). */
export function isExecutedEntry(v: unknown): v is ExecutedEntry {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  if (Object.keys(o).length !== 2 || !isNat(o.floor) || !Array.isArray(o.above)) return false;
  let prev = (o.floor as number) + 1;
  for (const x of o.above) {
    if (!isNat(x) || x <= prev) return false;
    prev = x;
  }
  return true;
}
