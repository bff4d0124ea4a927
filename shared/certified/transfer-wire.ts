/**
 * The two answers a PBFT node gives a replica that fetches a certified state (durable-objects/
 * certified-transfer.ts): where to transfer to (`transferPoint`: the certificate of the node's
 * stable checkpoint) and chunks of that state (`stateChunks`). Both travel as canonical JSON text,
 * and the replica reads them only through `parseStrictJson` and the strict schemas here (unknown
 * members refused): what a peer sent is never used as the object it arrived as. The chunks are the
 * nodes' own state-transfer chunks (`StateChunk`, `serveChunk` / `checkChunk` of the certified
 * state machine): one chunk format for nodes and replicas.
 */
import { canonicalJson } from "../canonical.js";
import { JSON_DEPTH_MAX } from "../json-value.js";
import { parseStrictJson } from "../strict-json.js";
import { certificateSchema as certificate } from "../wire/certificate-schema.js";
import * as z from "../zod.js";
import type { Certificate, CertifiedStateMachine, ChunkRecord, StateChunk, StateHandle } from "./types.js";

/** Paths per `stateChunks` call at most (more are ignored). */
export const TRANSFER_PATHS_MAX = 16;
/** Records per chunk a replica may ask for at most (a subtree with more is split). */
export const TRANSFER_RECORDS_MAX = 512;
/** Canonical JSON bytes of one chunk's records (one record alone may exceed it). */
export const TRANSFER_CHUNK_BYTES_MAX = 256 * 1024;
/** Characters of one answer: the node stops adding chunks past it; the replica reads no longer text. */
export const TRANSFER_ANSWER_CHARS_MAX = 2 * 1024 * 1024;
/** The deepest path: one bit per level of a SHA-256 key hash. */
const PATH_RE = /^[01]{0,256}$/;
/** answer → chunks → chunk → records → record → a record's state (at most JSON_DEPTH_MAX + 2 deep). */
const ANSWER_DEPTH_MAX = JSON_DEPTH_MAX + 8;

/** Why a node did not serve: a stable checkpoint not certified yet, another checkpoint, bad arguments. */
export type TransferRefusal = "no_checkpoint" | "not_stable" | "bad_args" | "unavailable";

const digest = z.string().check(z.regex(/^[0-9a-f]{64}$/));
const count = z.int().check(z.minimum(0));
const refusal = z.strictObject({
  error: z.enum(["no_checkpoint", "not_stable", "bad_args", "unavailable"]),
  /** The seq a node serves instead (`not_stable`). */
  stableSeq: z.optional(count),
});
const pointAnswer = z.union([z.strictObject({ certificate }), refusal]);
const path = z.string().check(z.regex(PATH_RE));
const chunk = z.union([
  z.strictObject({ split: z.tuple([digest, digest]) }),
  z.strictObject({ records: z.array(z.tuple([z.string(), z.string(), z.unknown()])) }),
]);
const chunksAnswer = z.union([
  z.strictObject({
    seq: count,
    chunks: z.array(z.strictObject({ path, chunk })).check(z.maxLength(TRANSFER_PATHS_MAX)),
  }),
  refusal,
]);

export type PointAnswer = { ok: true; certificate: Certificate } | { ok: false; reason: string };
export type ChunksAnswer =
  | { ok: true; seq: number; chunks: { path: string; chunk: StateChunk }[] }
  | { ok: false; reason: string; stableSeq?: number };

function readText(text: unknown): { ok: true; value: unknown } | { ok: false; reason: string } {
  if (typeof text !== "string") return { ok: false, reason: "not_text" };
  if (text.length > TRANSFER_ANSWER_CHARS_MAX) return { ok: false, reason: "too_large" };
  try {
    return { ok: true, value: parseStrictJson(text, ANSWER_DEPTH_MAX) };
  } catch {
    return { ok: false, reason: "bad_json" };
  }
}

/** A node's `transferPoint` answer, parsed strictly (never throws). */
export function parsePointAnswer(text: unknown): PointAnswer {
  const read = readText(text);
  if (!read.ok) return read;
  const r = pointAnswer.safeParse(read.value);
  if (!r.success) return { ok: false, reason: "bad_shape" };
  if ("error" in r.data) return { ok: false, reason: r.data.error };
  return { ok: true, certificate: r.data.certificate };
}

/** A node's `stateChunks` answer, parsed strictly (never throws). Chunks are checked later, by hash. */
export function parseChunksAnswer(text: unknown): ChunksAnswer {
  const read = readText(text);
  if (!read.ok) return read;
  const r = chunksAnswer.safeParse(read.value);
  if (!r.success) return { ok: false, reason: "bad_shape" };
  if ("error" in r.data)
    return r.data.stableSeq === undefined
      ? { ok: false, reason: r.data.error }
      : { ok: false, reason: r.data.error, stableSeq: r.data.stableSeq };
  const chunks = r.data.chunks.map((c) => ({
    path: c.path,
    chunk: "split" in c.chunk ? c.chunk : { records: c.chunk.records as ChunkRecord[] },
  }));
  return { ok: true, seq: r.data.seq, chunks };
}

// --- the node's side: building the answers ------------------------------------------------------

export const refusalText = (error: TransferRefusal, stableSeq?: number): string =>
  canonicalJson(stableSeq === undefined ? { error } : { error, stableSeq });

export const pointText = (c: Certificate): string => canonicalJson({ certificate: c });

/** Arguments of `stateChunks` from a peer, checked (null: refuse with `bad_args`). */
export function chunkRequest(
  paths: unknown,
  recordsMax: unknown,
): { paths: string[]; records: number } | null {
  if (!Array.isArray(paths) || paths.length === 0) return null;
  if (!Number.isSafeInteger(recordsMax) || (recordsMax as number) < 1) return null;
  const list = (paths as unknown[]).slice(0, TRANSFER_PATHS_MAX);
  if (!list.every((p): p is string => typeof p === "string" && PATH_RE.test(p))) return null;
  return { paths: [...new Set(list)], records: Math.min(recordsMax as number, TRANSFER_RECORDS_MAX) };
}

/**
 * Chunks of the state `h` at `seq` for the asked paths, as the answer's text: in order, stopping
 * before the answer passes TRANSFER_ANSWER_CHARS_MAX (the first chunk always goes).
 */
export function chunksText(
  sm: Pick<CertifiedStateMachine, "serveChunk">,
  h: StateHandle,
  seq: number,
  req: { paths: string[]; records: number },
): string {
  const chunks: { path: string; chunk: StateChunk }[] = [];
  let chars = 0;
  for (const p of req.paths) {
    const c = {
      path: p,
      chunk: sm.serveChunk(h, seq, p, { records: req.records, bytes: TRANSFER_CHUNK_BYTES_MAX }),
    };
    chars += canonicalJson(c).length;
    if (chunks.length > 0 && chars > TRANSFER_ANSWER_CHARS_MAX - 64) break;
    chunks.push(c);
  }
  return canonicalJson({ seq, chunks });
}
