/**
 * A replica's certified state transfer from the PBFT nodes, every decision of it, pure: which node
 * to ask, what to ask for, whether a chunk is the one its parent committed to, when to adopt, when
 * to leave a node (a Byzantine node may send bad chunks, a wrong or stale certificate, or nothing).
 * durable-objects/certified-transfer.ts does the calls, the verification of certificates (async)
 * and the storage; it feeds each answer in here and does what `next` says.
 *
 * The walk is the nodes' own (shared/pbft/state-transfer.ts): want the subtree at "" with the
 * certificate's `stateRoot`; a subtree this replica already has with that hash is reused, an empty
 * one staged empty, any other fetched — split into its children's hashes, or all its records —
 * each chunk checked with `checkChunk` against the hash expected at its path. Where the replica
 * has keys it asks for small chunks (it lacks what changed), elsewhere for big ones.
 *
 * `fresh`: after adopting was refused (the replica's state unsound: a leaf without its record),
 * nothing is reused and the driver replaces the whole certified state; it costs a full transfer,
 * once. A key the certificate's state lacks (deleted since, or a divergence) is no reason: adopting
 * removes it.
 *
 * A node that answers badly (or not at all within the driver's deadline) is left for the next one
 * in rotation; once every node failed in a row without progress, `next` says `wait` (the next round,
 * at the alarm's period, starts again). A node that serves a newer checkpoint than the one being
 * fetched (its old one collected) is asked for its transfer point, and the transfer starts again on
 * the newer certificate (reusing, as always, the subtrees the replica has itself).
 */
import { toHex } from "../bytes.js";
import { EMPTY_HASH } from "./hashing.js";
import type { Certificate, CertifiedStateMachine, ChunkRecord, Digest } from "./types.js";
import type { ChunksAnswer } from "./transfer-wire.js";
import { TRANSFER_PATHS_MAX, TRANSFER_RECORDS_MAX } from "./transfer-wire.js";

export const EMPTY_DIGEST: Digest = toHex(EMPTY_HASH);
/** Records per chunk asked where the replica already has keys (it lacks roughly what changed). */
export const TRANSFER_RECORDS_PATCH = 8;

/** What the transfer needs of the replica's current certified state. */
export type LocalState = Pick<CertifiedStateMachine, "hashAt" | "checkChunk">;

/** A subtree of the transfer: still to fetch, the replica's own (same hash), or fetched. */
export type PathState =
  | { kind: "pending"; hash: Digest }
  | { kind: "reused"; hash: Digest }
  | { kind: "fetched"; hash: Digest; records: ChunkRecord[] };

export interface TransferState {
  /** The verified certificate whose state is fetched; null while asking for one. */
  target: Certificate | null;
  fresh: boolean;
  paths: Map<string, PathState>;
  /** The node asked now (index into the cluster's nodes). */
  node: number;
  /** Nodes left in a row without progress (reset by any kept chunk or a new target). */
  failedInRow: number;
  /** Ask the current node for its transfer point (set when a node said it serves another seq). */
  needPoint: boolean;
}

export type Next =
  | { kind: "point"; node: number }
  | { kind: "chunks"; node: number; seq: number; paths: string[]; records: number }
  | { kind: "adopt"; certificate: Certificate; fresh: boolean; staged: [string, ChunkRecord[]][] }
  | { kind: "wait" };

/** What one input changed: the paths whose rows to rewrite (or delete), and whether the head row. */
export interface Changes {
  paths: Set<string>;
  head: boolean;
  /** Why a node was left, if it was (the driver logs and counts it). */
  left?: string;
  /** Chunks kept, and chunks refused. */
  kept: number;
  refused: number;
}

const changes = (): Changes => ({ paths: new Set(), head: false, kept: 0, refused: 0 });

export function newTransfer(nodes: number, start: number): TransferState {
  return {
    target: null,
    fresh: false,
    paths: new Map(),
    node: ((start % nodes) + nodes) % nodes,
    failedInRow: 0,
    needPoint: true,
  };
}

/** What to do next (reads, never changes, `s` — except re-checking reused subtrees before adopting). */
export function next(s: TransferState, local: LocalState, nodes: number, ch: Changes = changes()): Next {
  if (s.failedInRow >= nodes) return { kind: "wait" };
  if (s.target === null || s.needPoint) return { kind: "point", node: s.node };
  // one call asks for one chunk size: the first pending path's, and the pending paths that share it
  const asks: string[] = [];
  let records = 0;
  for (const [p, st] of s.paths) {
    if (st.kind !== "pending") continue;
    const size = !s.fresh && local.hashAt(p) !== EMPTY_DIGEST ? TRANSFER_RECORDS_PATCH : TRANSFER_RECORDS_MAX;
    if (records === 0) records = size;
    if (size !== records) continue;
    asks.push(p);
    if (asks.length >= TRANSFER_PATHS_MAX) break;
  }
  if (asks.length > 0) return { kind: "chunks", node: s.node, seq: s.target.body.seq, paths: asks, records };
  // every subtree in: the replica's own ones must still be what they were (it may have applied batches)
  let moved = false;
  for (const [p, st] of s.paths)
    if (st.kind === "reused" && local.hashAt(p) !== st.hash) {
      s.paths.set(p, { kind: "pending", hash: st.hash });
      ch.paths.add(p);
      moved = true;
    }
  if (moved) return next(s, local, nodes, ch);
  const staged: [string, ChunkRecord[]][] = [];
  for (const [p, st] of s.paths) if (st.kind === "fetched") staged.push([p, st.records]);
  return { kind: "adopt", certificate: s.target, fresh: s.fresh, staged };
}

/** The current node is left (bad answer, silence): the next one is asked. */
export function leaveNode(s: TransferState, nodes: number, reason: string, ch: Changes = changes()): Changes {
  s.node = (s.node + 1) % nodes;
  s.failedInRow++;
  s.needPoint = s.target === null;
  ch.head = true;
  ch.left = reason;
  return ch;
}

/** A new round: every node may be asked again. */
export function newRound(s: TransferState): void {
  s.failedInRow = 0;
}

/**
 * A node's transfer point, its certificate verified by the driver (`verified`: the verdict).
 * `head`: the replica's certified head; a point at or below it is no use (a stale or lying node).
 */
export function onPoint(
  s: TransferState,
  local: LocalState,
  nodes: number,
  head: number,
  answer: { ok: true; certificate: Certificate; verified: boolean } | { ok: false; reason: string },
): Changes {
  const ch = changes();
  if (!answer.ok) return leaveNode(s, nodes, `point_${answer.reason}`, ch);
  if (!answer.verified) return leaveNode(s, nodes, "point_bad_certificate", ch);
  const cert = answer.certificate;
  if (cert.body.seq <= head) return leaveNode(s, nodes, "point_stale", ch);
  // asked with a target already: the node said it serves a newer checkpoint; one not newer (its
  // stable checkpoint moved back? a lie) would have it asked again and again: left instead
  if (s.target && cert.body.seq <= s.target.body.seq) return leaveNode(s, nodes, "point_not_newer", ch);
  startOn(s, local, cert, ch);
  return ch;
}

/** Fetch `cert`'s state from the root (what was fetched for an older one is dropped, as nodes do). */
function startOn(s: TransferState, local: LocalState, cert: Certificate, ch: Changes): void {
  const old = s.paths;
  for (const p of old.keys()) ch.paths.add(p);
  s.paths = new Map();
  s.target = cert;
  s.needPoint = false;
  s.failedInRow = 0;
  ch.head = true;
  want(s, local, "", cert.body.stateRoot, ch);
}

/** Start again at the root with nothing reused (the replica's state is not a prefix of the target's). */
export function restartFresh(s: TransferState, local: LocalState): Changes {
  const ch = changes();
  s.fresh = true;
  if (s.target) startOn(s, local, s.target, ch);
  return ch;
}

function want(s: TransferState, local: LocalState, path: string, hash: Digest, ch: Changes): void {
  ch.paths.add(path);
  if (!s.fresh && local.hashAt(path) === hash) s.paths.set(path, { kind: "reused", hash });
  else if (hash === EMPTY_DIGEST) s.paths.set(path, { kind: "fetched", hash, records: [] });
  else s.paths.set(path, { kind: "pending", hash });
}

/** A node's chunks for the target (parsed strictly by the driver; each checked here against its hash). */
export function onChunks(s: TransferState, local: LocalState, nodes: number, answer: ChunksAnswer): Changes {
  const ch = changes();
  const t = s.target;
  if (t === null) return ch;
  if (!answer.ok) {
    // it serves a newer checkpoint (ours collected there): ask it for that one
    if (answer.reason === "not_stable" && answer.stableSeq !== undefined && answer.stableSeq > t.body.seq) {
      s.needPoint = true;
      ch.head = true;
      return ch;
    }
    return leaveNode(s, nodes, `chunks_${answer.reason}`, ch);
  }
  if (answer.seq !== t.body.seq) return leaveNode(s, nodes, "chunks_other_seq", ch);
  let bad: string | undefined;
  for (const { path, chunk } of answer.chunks) {
    const st = s.paths.get(path);
    if (st?.kind !== "pending") continue; // not asked (or kept already): ignored
    const check = local.checkChunk(path, st.hash, chunk);
    if (!check.ok) {
      ch.refused++;
      bad ??= `bad_chunk_${check.reason}`;
      continue;
    }
    ch.kept++;
    ch.paths.add(path);
    if ("children" in check) {
      s.paths.delete(path);
      for (const [q, h] of check.children) want(s, local, q, h, ch);
    } else s.paths.set(path, { kind: "fetched", hash: st.hash, records: check.records });
  }
  if (ch.kept > 0) {
    s.failedInRow = 0;
    ch.head = true;
  }
  if (bad !== undefined) return leaveNode(s, nodes, bad, ch);
  if (ch.kept === 0) return leaveNode(s, nodes, "chunks_no_progress", ch);
  return ch;
}

/** Pending subtrees, fetched records (for stats and logs). */
export function progress(s: TransferState): { pending: number; fetched: number; records: number } {
  let pending = 0;
  let fetched = 0;
  let records = 0;
  for (const st of s.paths.values())
    if (st.kind === "pending") pending++;
    else if (st.kind === "fetched") ((fetched += 1), (records += st.records.length));
  return { pending, fetched, records };
}
