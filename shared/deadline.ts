/**
 * Deadlines on calls to peers. A peer (a node, a replica) may accept a call and never answer; no such
 * call may hold a queue batch, an alarm task or another task for longer than its deadline. The call
 * itself is not cancelled (RPC has no cancel): its late answer is ignored.
 */

/** Deadlines of each kind of peer call, ms. */
export const PEER_DEADLINE_MS = {
  /** A replica applying a replicate message's entries, or a certified batch. */
  replicaApply: 10_000,
  /** Small replica calls: confirmations, anti-entropy pages, heads. */
  replicaSmall: 5_000,
  /** Ops handed to one PBFT node (plus `nodeSubmitPerOp` for each: it verifies every signature). */
  nodeSubmit: 5_000,
  nodeSubmitPerOp: 2,
  /** A node's catch-up answers (kept batches, state chunks). */
  nodeFetch: 5_000,
  /** A node's head (one number): a round that asks a node that does not answer moves on sooner. */
  nodeHead: 1_000,
  /** One queue send. */
  queueSend: 5_000,
} as const;

export class DeadlineError extends Error {
  constructor(
    readonly what: string,
    readonly ms: number,
  ) {
    super(`${what}: no answer within ${ms} ms`);
    this.name = "DeadlineError";
  }
}

/** `p`, or a `DeadlineError` once `ms` have passed without it settling. */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeadlineError(what, ms)), ms);
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * Settle as soon as `need` of `calls` have fulfilled, or once that can no longer happen, or at the
 * deadline — whichever comes first. Each result is the call's outcome if it settled by then, else a
 * rejection with a `DeadlineError` (a call still running is left to finish on its own).
 */
export function settleQuorum<T>(
  calls: readonly Promise<T>[],
  need: number,
  ms: number,
  what: string,
): Promise<PromiseSettledResult<T>[]> {
  const results: (PromiseSettledResult<T> | undefined)[] = calls.map(() => undefined);
  return new Promise((resolve) => {
    let fulfilled = 0;
    let rejected = 0;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(results.map((r) => r ?? { status: "rejected", reason: new DeadlineError(what, ms) }));
    };
    const timer = setTimeout(finish, ms);
    if (calls.length === 0 || need <= 0) return finish();
    calls.forEach((c, i) =>
      c.then(
        (value) => {
          results[i] = { status: "fulfilled", value };
          if (++fulfilled >= need) finish();
        },
        (reason: unknown) => {
          results[i] = { status: "rejected", reason };
          if (++rejected > calls.length - need) finish();
        },
      ),
    );
  });
}
