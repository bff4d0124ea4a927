/**
 * What replicas exchange through the `replicate` queue: ops with the effect their origin decided.
 * A message travels as one JSON text (`replicateText`: the entries as stored in the outbox, the
 * origin, the targets) and is parsed on receipt by the strict peer parser (shared/wire/peer-text.ts)
 * and a strict schema; each entry is then checked on its own: the op's shape and client signature,
 * the effect's shape for the op's type. Anti-entropy pages and the receivers' reports travel the same way.
 */
import * as z from "./zod.js";
import { utf8Length } from "./bytes.js";
import { dataType, type OpStatus } from "./datatypes/index.js";
import { parseOp, type SignedOp } from "./ops.js";
import { ARGS_DEPTH_MAX } from "./op-limits.js";
import { parsePeer, peerText, type PeerParse } from "./wire/peer-text.js";

export interface ReplicatedOp {
  op: SignedOp;
  status: OpStatus;
  reason?: string;
  /** null when the op changed nothing at its origin (e.g. a rejected withdraw). */
  effect: unknown;
  /** The op's position in its origin's log (1, 2, 3, ...): receivers' cursors count these. */
  pos?: number;
}

/** A replicate message as its origin builds it (`replicateText` puts it on the wire). */
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

const entryShape = z.strictObject({
  op: z.unknown(),
  status: z.enum(["ok", "rejected"]),
  reason: z.optional(z.string().check(z.maxLength(64))),
  effect: z.unknown(),
  pos: z.optional(z.int().check(z.minimum(1), z.maximum(Number.MAX_SAFE_INTEGER))),
});

/** message → entries → entry → op → args → a register's value (an effect nests no deeper). */
const ENTRIES_DEPTH_MAX = ARGS_DEPTH_MAX + 4;
/** Characters of one replicate message's text at most (its packer stays under 96 KB of entries). */
export const REPLICATE_TEXT_CHARS_MAX = 128 * 1024;
/** Characters of one anti-entropy page's text at most (≤ ANTI_ENTROPY_PAGE_MAX entries of ≤ 8 KB ops). */
export const LOG_PAGE_CHARS_MAX = 16 * 1024 * 1024;
/** Entries one message or page holds at most. */
const ENTRIES_MAX = 10_000;
const replicaName = z.string().check(z.minLength(1), z.maxLength(64));
const entriesSchema = z.array(z.unknown()).check(z.maxLength(ENTRIES_MAX));

/**
 * The wire text of a replicate message (the queue body): the entries' JSON as stored, unparsed,
 * inside one object. Receivers parse it with `parseReplicateText`.
 */
export function replicateText(m: ReplicateMessage): string {
  const targets = m.targets === undefined ? "" : `,"targets":${peerText(m.targets)}`;
  return `{"entries":${m.entries},"origin":${peerText(m.origin)}${targets}}`;
}

/** A replicate message as parsed: its entries still to be checked one by one (`parseEntryList`). */
export interface ParsedReplicate {
  origin: string;
  entries: unknown[];
  targets?: string[];
}

const replicateSchema = z.strictObject({
  entries: entriesSchema,
  origin: replicaName,
  targets: z.optional(z.array(replicaName).check(z.maxLength(64))),
});

/** Parse a replicate message's text from the queue (never throws). */
export function parseReplicateText(text: unknown): PeerParse<ParsedReplicate> {
  const r = parsePeer(text, replicateSchema, { chars: REPLICATE_TEXT_CHARS_MAX, depth: ENTRIES_DEPTH_MAX });
  if (!r.ok) return r;
  const out: ParsedReplicate = { origin: r.value.origin, entries: r.value.entries };
  if (r.value.targets !== undefined) out.targets = r.value.targets;
  return { ok: true, value: out };
}

/** One page of an origin's own log as its wire text: entries (JSON texts as stored) and the log's head. */
export const logPageText = (entriesJson: readonly string[], head: number): string =>
  `{"entries":[${entriesJson.join(",")}],"head":${head}}`;

const logPageSchema = z.strictObject({
  entries: entriesSchema,
  head: z.int().check(z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER)),
});

/** Parse an anti-entropy page from a peer (never throws). */
export function parseLogPage(text: unknown): PeerParse<{ entries: unknown[]; head: number }> {
  return parsePeer(text, logPageSchema, { chars: LOG_PAGE_CHARS_MAX, depth: ENTRIES_DEPTH_MAX });
}

/**
 * Check entries one by one (already parsed from peer text). A malformed entry (hostile or buggy
 * origin) is returned as null in its place, so the receiver can count and skip it without losing the
 * rest of the batch.
 */
export function parseEntryList(raw: readonly unknown[]): (ReplicatedOp | null)[] {
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

/** Parse the JSON text of a list of entries (strictly, as peer text), then each entry. */
export function parseEntries(json: string): (ReplicatedOp | null)[] {
  const r = parsePeer(json, entriesSchema, { chars: LOG_PAGE_CHARS_MAX, depth: ENTRIES_DEPTH_MAX - 1 });
  return r.ok ? parseEntryList(r.value) : [null];
}

/** What a receiver reports after applying a message's entries (its RPC answers the text). */
export interface ApplyReport {
  applied: number;
  duplicates: number;
  malformed: number;
  badSignature: number;
  typeConflicts: number;
  /** Register stamps more than HLC_AHEAD_MAX_MS ahead of this replica's clock: refused, not recorded. */
  stampAhead: number;
  /** Ops whose id this replica held with other content, both signed by the client: evidence kept. */
  equivocations: number;
  /** This receiver's cursor for the message's origin afterwards (what it confirms to the origin). */
  cursor: number;
}

const position = z.int().check(z.minimum(0), z.maximum(Number.MAX_SAFE_INTEGER));
const applyReportSchema = z.strictObject({
  applied: position,
  duplicates: position,
  malformed: position,
  badSignature: position,
  typeConflicts: position,
  stampAhead: position,
  equivocations: position,
  cursor: position,
});
const SMALL_LIMITS = { chars: 4096, depth: 2 };

/** Parse a receiver's report (never throws). */
export const parseApplyReport = (text: unknown): PeerParse<ApplyReport> =>
  parsePeer(text, applyReportSchema, SMALL_LIMITS);

/** Confirmations to an origin, `{peer: that peer's cursor for the origin}`, as wire text. */
export const acksText = (acks: Readonly<Record<string, number>>): string => peerText(acks);

const acksSchema = z.record(replicaName, position);

/** Parse confirmations (never throws; unusable text confirms nothing). */
export function parseAcks(text: unknown): Record<string, number> {
  const r = parsePeer(text, acksSchema, SMALL_LIMITS);
  return r.ok ? r.value : {};
}
