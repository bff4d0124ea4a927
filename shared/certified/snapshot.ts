/**
 * The serialised certified state: what checkpoints digest and state transfer ships.
 *
 *   { format: "aspec/certified-state/v1", records: [[key, type, state], …] }   sorted by key
 *
 * Sorted so that the same state always serialises to the same canonical bytes, whatever order keys
 * were created in. A snapshot from another node is hostile until its digest is checked against a
 * checkpoint, so decoding validates the shape and refuses anything else.
 */
import type { Json } from "../canonical.js";
import { isTypeName } from "../datatypes/index.js";
import type { KeyRecord } from "../materialize.js";
import type { StateSnapshot } from "./types.js";

export const SNAPSHOT_FORMAT = "aspec/certified-state/v1";

export type SnapshotRecord = [key: string, type: string, state: Json];

export interface SnapshotV1 {
  format: typeof SNAPSHOT_FORMAT;
  records: SnapshotRecord[];
}

/** Serialise records (deep-copied, so later changes to the live state don't leak into it). */
export function encodeSnapshot(records: Iterable<readonly [string, KeyRecord]>): StateSnapshot {
  const out: SnapshotRecord[] = [];
  for (const [k, r] of records) out.push([k, r.type, structuredClone(r.state) as Json]);
  out.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const snap: SnapshotV1 = { format: SNAPSHOT_FORMAT, records: out };
  return snap as unknown as StateSnapshot;
}

/** Parse a snapshot into records (deep-copied). Throws on anything malformed. */
export function decodeSnapshot(snapshot: StateSnapshot): Map<string, KeyRecord> {
  const s = snapshot as unknown as SnapshotV1;
  if (typeof s !== "object" || s === null || s.format !== SNAPSHOT_FORMAT || !Array.isArray(s.records))
    throw new Error("snapshot: not an aspec/certified-state/v1 snapshot");
  const records = new Map<string, KeyRecord>();
  let prev: string | undefined;
  for (const r of s.records) {
    if (!Array.isArray(r) || r.length !== 3 || typeof r[0] !== "string" || !isTypeName(r[1]))
      throw new Error("snapshot: malformed record");
    if (prev !== undefined && !(prev < r[0])) throw new Error("snapshot: keys not strictly sorted");
    prev = r[0];
    records.set(r[0], { type: r[1], state: structuredClone(r[2]) });
  }
  return records;
}
