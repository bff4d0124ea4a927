/**
 * What replicas exchange through the `replicate` queue: ops with the effect their origin decided.
 * Entries travel as one JSON text per message (stored that way in the outbox), so the alarm, the
 * queue and the consumer pass them through without parsing; the receiver parses and checks them
 * once: the op's shape and client signature, the effect's shape for the op's type.
 */
import * as z from "./zod.js";
import { utf8Length } from "./bytes.js";
import { dataType, type OpStatus } from "./datatypes/index.js";
import { parseOp, type SignedOp } from "./ops.js";

export interface ReplicatedOp {
  op: SignedOp;
  status: OpStatus;
  reason?: string;
  /** null when the op changed nothing at its origin (e.g. a rejected withdraw). */
  effect: unknown;
  /** The op's position in its origin's log (1, 2, 3, ...): receivers' cursors count these. */
  pos?: number;
}

export interface ReplicateMessage {
  origin: string;
  /** JSON text of `ReplicatedOp[]`. */
  entries: string;
  /** The replicas to deliver to (a re-send goes only to peers that have not confirmed); absent: all but the origin. */
  targets?: string[];
}

/** Queue messages are capped at 128 KB; stay well below it. */
export const REPLICATE_MESSAGE_BYTES_MAX = 96 * 1024;

/** Pack JSON-encoded entries into messages under the byte cap, keeping order. */
export function packMessages(origin: string, entriesJson: string[], targets?: string[]): ReplicateMessage[] {
  const out: ReplicateMessage[] = [];
  let cur: string[] = [];
  let size = 0;
  for (const e of entriesJson) {
    const n = utf8Length(e) + 1;
    if (cur.length > 0 && size + n > REPLICATE_MESSAGE_BYTES_MAX) {
      out.push(message(origin, cur, targets));
      cur = [];
      size = 0;
    }
    cur.push(e);
    size += n;
  }
  if (cur.length > 0) out.push(message(origin, cur, targets));
  return out;
}

const message = (origin: string, entries: string[], targets?: string[]): ReplicateMessage =>
  targets === undefined
    ? { origin, entries: "[" + entries.join(",") + "]" }
    : { origin, entries: "[" + entries.join(",") + "]", targets };

const entryShape = z.object({
  op: z.unknown(),
  status: z.enum(["ok", "rejected"]),
  reason: z.optional(z.string().check(z.maxLength(64))),
  effect: z.unknown(),
  pos: z.optional(z.int().check(z.minimum(1), z.maximum(Number.MAX_SAFE_INTEGER))),
});

/**
 * Parse one message's entries. A malformed entry (hostile or buggy origin) is returned as null in
 * its place, so the receiver can count and skip it without losing the rest of the batch.
 */
export function parseEntries(json: string): (ReplicatedOp | null)[] {
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return [null];
  }
  if (!Array.isArray(raw)) return [null];
  return raw.map((x) => {
    try {
      const e = entryShape.parse(x);
      const op = parseOp(e.op);
      if (e.effect !== null && !dataType(op.type).effect.safeParse(e.effect).success) return null;
      const out: ReplicatedOp = { op, status: e.status, effect: e.effect };
      if (e.reason !== undefined) out.reason = e.reason;
      if (e.pos !== undefined) out.pos = e.pos;
      return out;
    } catch {
      return null;
    }
  });
}
