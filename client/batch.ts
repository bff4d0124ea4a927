/**
 * A batch's reply (`POST /v1/ops/batch`) checked op by op: `{results}` with one element per op sent,
 * in order, each verified exactly as the reply to that op sent alone would be (`verifyOpReply`, or
 * `checkErrorReply` for a refusal) and each within the one-reply bound, so each can be evidence.
 * One element that does not verify refuses the whole reply (the SDK fails over, as for one op).
 */
import { utf8 } from "../shared/bytes.js";
import { AspecError } from "../shared/errors.js";
import { opIdOf, type SignedOp } from "../shared/ops.js";
import type { OpReply } from "../shared/replies.js";
import { REPLY_BYTES_MAX } from "../shared/reply-limits.js";
import type { CertificateGuard } from "./certificates.js";
import { ReplyVerificationError } from "./errors.js";
import { checkErrorReply, verifyOpReply, type Bound, type PinnedKeys } from "./verify.js";

/** One op's outcome in a batch: its verified reply, or the refusal a single submit would have thrown. */
export type BatchResult = { ok: true; reply: OpReply } | { ok: false; error: AspecError };

export async function verifyBatchReply(
  body: unknown,
  ops: readonly SignedOp[],
  replica: string | undefined,
  bound: Bound,
  pinned: PinnedKeys,
  certs: CertificateGuard,
): Promise<BatchResult[]> {
  const results = (body as { results?: unknown } | null)?.results;
  if (!Array.isArray(results) || results.length !== ops.length)
    throw new ReplyVerificationError(
      "malformed",
      replica ?? "",
      body,
      `a batch reply holds one result per op (${ops.length})`,
    );
  const out: BatchResult[] = [];
  // one request, one replica: the first signed result names it for the others
  let asked = replica;
  for (const [i, op] of ops.entries()) {
    const el: unknown = results[i];
    if (utf8(JSON.stringify(el) ?? "").length > REPLY_BYTES_MAX)
      throw new ReplyVerificationError(
        "out_of_bounds",
        replica ?? "",
        null,
        `result ${i} is past the reply bound`,
      );
    const opId = opIdOf(op);
    const error = AspecError.fromBody(el);
    if (error) {
      out.push({
        ok: false,
        error: await checkErrorReply(el, error, { replica: asked, opId, ...bound }, pinned),
      });
      const signer = (el as { replica?: unknown }).replica;
      if (typeof signer === "string") asked ??= signer;
      continue;
    }
    const expect = { replica: asked, opId, key: op.key, type: op.type, ...bound };
    const reply = await verifyOpReply(el, expect, pinned, certs);
    asked ??= reply.replica;
    out.push({ ok: true, reply });
  }
  return out;
}
