/**
 * The contract every data type meets. Pure: no I/O, no clock, no randomness.
 *
 * An operation is decided once against some state (`decide`: the origin replica's tentative state,
 * or the certified state in the BFT order), which yields an *effect*; effects are what replicas
 * exchange and `apply`. For the CRDT types `apply` commutes, so replicas that applied the same set
 * of effects hold the same state whatever the order. Duplicate effects are filtered by op id before
 * `apply` (see `materializer.ts`), not by the types themselves.
 */
import type * as z from "../zod.js";
import type { Json } from "../canonical.js";
import type { Hlc } from "../hlc.js";

export type OpStatus = "ok" | "rejected";

/**
 * Where an op is decided, which is what orders `register` writes (the client's `ts` orders nothing):
 * - `origin`: tentatively, at the replica the client sent it to, stamped by that replica's hybrid
 *   logical clock (`shared/hlc.ts`): later than every write the replica had seen;
 * - `certified`: in the BFT order, the same at every node: the op comes after everything before it.
 */
export type DecideOrder = { readonly kind: "origin"; readonly stamp: Hlc } | { readonly kind: "certified" };

export interface OpContext {
  readonly opId: string;
  readonly client: string;
  readonly seq: number;
  readonly order: DecideOrder;
}

export interface Decision<E> {
  readonly status: OpStatus;
  /** Why an op was rejected, e.g. `insufficient_funds`. */
  readonly reason?: string;
  /** What to apply everywhere; null when the op changes nothing. */
  readonly effect: E | null;
}

export interface DataType<S, E, A extends Record<string, z.ZodMiniType> = Record<string, z.ZodMiniType>> {
  readonly name: string;
  /** Argument schema per op name. */
  readonly args: A;
  /** Shape of an effect, checked before applying one that another replica decided. */
  readonly effect: z.ZodMiniType<E>;
  initial(): S;
  decide(state: S, op: string, args: unknown, ctx: OpContext): Decision<E>;
  apply(state: S, effect: E): S;
  /**
   * For a last-writer-wins type: would `effect` lose to what `state` holds (applying it changes
   * nothing because a later write is there)? Absent: an effect never loses.
   */
  loses?(state: S, effect: E): boolean;
  /**
   * `state` without `effect`: an equivocating client's losing version, applied here before the
   * winner arrived, is taken out again. `others` gives the effects of the key's other ops still in
   * this replica's op log, for a type that must rebuild from them (a register that `effect` had won).
   */
  unapply(state: S, effect: E, others: () => readonly E[]): S;
  /** The clock stamp an effect carries, if it carries one (a receiver bounds and absorbs it). */
  stampOf?(effect: E): Hlc;
  /** The user-visible value (what reads return and the state root commits to). */
  value(state: S): Json;
  /**
   * Does a key in `state` read as present? False: a `delete` reached it (and nothing concurrent or
   * later brought it back): reads answer as for a never-written key, and the certified order
   * removes the key from its state. Absent: always present (a type without `delete`).
   */
  present?(state: S): boolean;
}

/**
 * The op every user type has (docs/api.md, "Deleting a key"): args `{}`; what it removes, and how it
 * merges with concurrent writes, is each type's rule (its file says).
 */
export const DELETE_OP = "delete";
