/**
 * An EdgeReplica's write path, the critical path (docs/architecture.md, "The path of an op"):
 * verify the client's signature, step the replica core (shared/replica/submit.ts `submitOp`) in one
 * SQLite transaction (op row + state + client seq + clock), schedule the drain that delivers it,
 * then reply signed. A batch is the same steps for every op in one transaction.
 */
import { AspecError } from "../shared/errors.js";
import { runStep } from "../shared/host/step.js";
import { BATCH_OPS_MAX } from "../shared/op-limits.js";
import { opIdOf, verifyOp, type SignedOp } from "../shared/ops.js";
import { nonceMember, type OpReply } from "../shared/replies.js";
import { submitOp, type SubmitOutcome, type SubmitResult } from "../shared/replica/submit.js";
import type { RpcResult } from "../shared/rpc/replica.js";
import type { ReplicaParts } from "./replica-parts.js";
import { refusal } from "./signed-refusal.js";

/** POST /v1/ops: accept a client's op at once. */
export async function submit(p: ReplicaParts, name: string, op: SignedOp, nonce?: string): Promise<OpReply> {
  const key = await p.identity(name);
  if (!(await verifyOp(op))) throw new AspecError("bad_signature", "the op's signature does not verify");
  const policy = await p.policy();
  const now = Date.now();
  const r = runStep(p.tx, () =>
    submitOp(p.store, { op, me: name, nowMs: now, hlc: p.hlc(), isCertified: p.isCertified, policy }),
  ).effects;
  if (r.kind === "refused") throw r.error;
  p.advanced(r.hlc);
  // persist (above), then schedule the send, then reply
  await p.delivery.written(name);
  return p.boundary.sign<OpReply>(key.secret, opReply(p, name, op, r.outcome, now, nonce));
}

/**
 * POST /v1/ops/batch: every op verified, then all decided in order by the same `submitOp` in one
 * transaction (a refused op writes nothing and stops none of the others), then one drain scheduled
 * for all (they leave in the op log's next drain, as any ops do), then each answered as `submit`
 * would have: a signed reply or a signed refusal naming the op.
 */
export async function submitMany(
  p: ReplicaParts,
  name: string,
  ops: readonly SignedOp[],
  nonce?: string,
): Promise<RpcResult<OpReply>[]> {
  const key = await p.identity(name);
  if (ops.length > BATCH_OPS_MAX)
    throw new AspecError("payload_too_large", `a batch holds at most ${BATCH_OPS_MAX} ops`);
  const verified = await Promise.all(ops.map((op) => verifyOp(op)));
  const policy = await p.policy();
  const now = Date.now();
  const { effects: steps } = runStep(p.tx, () => {
    let hlc = p.hlc();
    const out = ops.map((op, i): SubmitResult => {
      if (!verified[i])
        return {
          kind: "refused",
          error: new AspecError("bad_signature", "the op's signature does not verify"),
        };
      const r = submitOp(p.store, { op, me: name, nowMs: now, hlc, isCertified: p.isCertified, policy });
      if (r.kind === "accepted") hlc = r.hlc;
      return r;
    });
    return { out, hlc };
  });
  p.advanced(steps.hlc);
  if (steps.out.some((r) => r.kind === "accepted")) {
    await p.delivery.written(name);
  }
  return Promise.all(
    steps.out.map(async (r, i): Promise<RpcResult<OpReply>> => {
      const op = ops[i]!;
      if (r.kind === "refused") return refusal(p, r.error, { opId: opIdOf(op) }, nonce);
      const reply = opReply(p, name, op, r.outcome, now, nonce);
      return { ok: true, value: await p.boundary.sign<OpReply>(key.secret, reply) };
    }),
  );
}

/** The reply to an accepted op, unsigned. */
function opReply(
  p: ReplicaParts,
  name: string,
  op: SignedOp,
  outcome: SubmitOutcome,
  now: number,
  nonce: string | undefined,
): Omit<OpReply, "sig"> {
  return {
    kind: "op",
    opId: opIdOf(op),
    key: op.key,
    type: op.type,
    tentative: {
      status: outcome.status,
      ...(outcome.reason ? { reason: outcome.reason } : {}),
      value: outcome.value,
      ...(outcome.superseded ? { superseded: true as const } : {}),
    },
    replica: name,
    certificate: p.certified.latestCertificate(),
    certification: p.certified.certification(),
    uncertified: outcome.pending,
    duplicate: outcome.duplicate,
    time: now,
    ...nonceMember(nonce),
  };
}
