/**
 * A certified batch `{certificate, ops}` as it crosses from a PBFT node to a replica (the
 * `certificates` queue, a node's direct post, the catch-up answers): canonical JSON text, parsed
 * by `parseCertifiedBatch` on receipt (shared/wire/peer-text.ts). A message that is not exactly a
 * well-formed certificate and ops that `parseOp` accepts is refused whole, before anything is
 * verified or executed: it is then not the batch that was certified, and the replica gets the seq
 * again from another copy or another node (it never "diverges" over it).
 */
import { isWellFormedOp, type SignedOp } from "../ops.js";
import type { Certificate } from "../certified/types.js";
import { ARGS_DEPTH_MAX } from "../op-limits.js";
import * as z from "../zod.js";
import { certificateSchema } from "./certificate-schema.js";
import { parsePeer, parsePeerJson, peerText, type PeerParse } from "./peer-text.js";

/** One certified batch: the certificate of seq s and the ops the nodes executed at s, in order. */
export interface CertifiedBatchMessage {
  certificate: Certificate;
  ops: SignedOp[];
}

/** Ops one batch may hold at most (the core cuts batches far below: `batchSizeMax`). */
export const CERTIFIED_BATCH_OPS_MAX = 10_000;
/**
 * Characters of one batch's text at most: the core bounds a batch's ops at `batchBytesMax`
 * (1 MiB by default, counted up to 3× for characters outside the BMP); room for the certificate.
 */
export const CERTIFIED_BATCH_CHARS_MAX = 4 * 1024 * 1024;
/** message → ops → op → args → a register's value. */
const DEPTH_MAX = ARGS_DEPTH_MAX + 3;
const LIMITS = { chars: CERTIFIED_BATCH_CHARS_MAX, depth: DEPTH_MAX };

const batchSchema = z.strictObject({
  certificate: certificateSchema,
  ops: z.array(z.unknown()).check(z.maxLength(CERTIFIED_BATCH_OPS_MAX)),
});

/** The wire text of a certified batch. */
export const certifiedBatchText = (msg: CertifiedBatchMessage): string =>
  peerText({ certificate: msg.certificate, ops: msg.ops });

/** Parse a certified batch from a peer (never throws). */
export function parseCertifiedBatch(text: unknown): PeerParse<CertifiedBatchMessage> {
  const r = parsePeer(text, batchSchema, LIMITS);
  if (!r.ok) return r;
  if (!r.value.ops.every(isWellFormedOp)) return { ok: false, reason: "bad_op" };
  return { ok: true, value: { certificate: r.value.certificate, ops: r.value.ops as SignedOp[] } };
}

/** Batches one catch-up answer may hold at most (the node serves ≤ 16). */
export const CERTIFIED_BATCHES_ANSWER_MAX = 64;

/**
 * A node's catch-up answer: the text of a JSON array of certified batches' texts, each of which the
 * replica parses on its own (`parseCertifiedBatch`, in `receive`), so one bad batch does not hide the
 * ones before it. Never throws; the texts, or why the answer is unusable.
 */
export function parseCertifiedBatches(text: unknown): PeerParse<string[]> {
  const r = parsePeerJson(text, { chars: CERTIFIED_BATCH_CHARS_MAX * 2, depth: 1 });
  if (!r.ok) return r;
  const list = z.array(z.string()).check(z.maxLength(CERTIFIED_BATCHES_ANSWER_MAX)).safeParse(r.value);
  return list.success ? { ok: true, value: list.data } : { ok: false, reason: "schema" };
}

/** The text of a catch-up answer (batches' texts as kept). */
export const certifiedBatchesText = (texts: readonly string[]): string => peerText(texts);

const SEQ_RE = /"seq":(\d{1,15})[,}]/;

/**
 * The seq a batch's text names, read without parsing (canonical JSON puts the certificate's body
 * before the ops; 0 if none is found): an ordering hint only, for the queue consumer and catch-up.
 * The replica parses the text itself and trusts nothing read here.
 */
export const seqHint = (text: string): number => Number(SEQ_RE.exec(text)?.[1] ?? 0);
