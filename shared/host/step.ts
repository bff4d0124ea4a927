/**
 * The shape every host runs a pure core through (after etcd-raft's RawNode/Ready): the PBFT core
 * (shared/pbft/driver.ts), the EC replica core (shared/replica/), the certified follower
 * (shared/follower/) and the delivery core (shared/delivery/core.ts), in the Durable Objects and in
 * the simulators alike:
 *
 * 1. step + persist, one transaction: the core's `step` runs inside it (it writes its stores
 *    synchronously) and the rows the step hands back are written in it too; a step that throws
 *    leaves nothing behind;
 * 2. `persisted`: after the commit, before any I/O — a simulator's crash between persist and send
 *    returns false, and the host does none of the step's I/O;
 * 3. the effects handed to the host: sends (`Transport`, each outgoing item possibly rewritten at
 *    one boundary: `rewrite`, the faults), publications, submissions, the next wake-up.
 *
 * Pure TypeScript, no platform imports.
 */
export type MaybePromise<T> = T | Promise<T>;

/** A host's durable storage: one transaction around a step, and the rows a step hands back. */
export interface StepStorage<Row = never> {
  /**
   * Run `body` as one transaction and return what it returns: all of its writes are kept, or, if
   * it throws, none. A DO: `ctx.storage.transactionSync(body)`.
   */
  transaction<T>(body: () => T): T;
  /** Write a step's rows; called only inside `transaction` (cores that write their stores need none). */
  write?(rows: readonly Row[]): void;
}

/**
 * The network: fire and forget, one call per destination per step. A call that throws is the
 * protocol's to repair (counted by the host), never the step's undoing.
 */
export interface Transport<To, Message> {
  send(to: To, messages: readonly Message[]): void;
}

/** A host's special powers, each at one point of the shape; all optional. */
export interface StepHooks<Input, Effects, Out = never> {
  /** Before a step (the input, or null for effects made outside a step, e.g. a restore's). */
  beforeStep?(input: Input | null): void;
  /**
   * After the step's transaction committed, before any I/O: checks, logging, and a simulator's
   * crash between persist and send — return false to stop: the host does none of this step's I/O.
   */
  persisted?(input: Input | null, fx: Effects): boolean | void;
  /** What to send instead of `out` (faults at one boundary: a simulator's Byzantine rewrites). */
  rewrite?(out: Out): MaybePromise<readonly Out[]>;
}

export interface StepResult<Effects> {
  effects: Effects;
  /** The `persisted` hook stopped the host (a crash): do none of the effects' I/O. */
  stopped: boolean;
}

/**
 * Step 1 and 2 of the shape: `step` and the rows `rowsOf` picks from its effects in one
 * transaction, then the `persisted` hook. The caller does step 3 unless `stopped`.
 */
export function runStep<Effects, Input = unknown, Row = never, Out = never>(
  storage: StepStorage<Row>,
  step: () => Effects,
  opts: {
    input?: Input | null;
    rowsOf?: (fx: Effects) => readonly Row[];
    hooks?: StepHooks<Input, Effects, Out>;
  } = {},
): StepResult<Effects> {
  const input = opts.input ?? null;
  opts.hooks?.beforeStep?.(input);
  const effects = storage.transaction(() => {
    const fx = step();
    if (opts.rowsOf) storage.write?.(opts.rowsOf(fx));
    return fx;
  });
  const stopped = opts.hooks?.persisted?.(input, effects) === false;
  return { effects, stopped };
}
