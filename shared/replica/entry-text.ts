/**
 * An op log row as `ReplicatedOp` JSON text, stitched from the row's stored JSON texts: nothing
 * parsed or re-encoded, so what a peer receives is byte for byte what the origin stored. Every
 * store writes the log's pages and shared evidence this way.
 */

/** A row's stored texts: the op's and the effect's JSON (null: no effect), its status and reason. */
export type EntryRow = {
  op: string;
  status: string;
  reason: string | null;
  effect: string | null;
};

export const entryText = (r: EntryRow, pos?: number): string =>
  `{"op":${r.op},"status":${JSON.stringify(r.status)}` +
  (r.reason === null ? "" : `,"reason":${JSON.stringify(r.reason)}`) +
  `,"effect":${r.effect ?? "null"}` +
  (pos === undefined ? "}" : `,"pos":${pos}}`);
