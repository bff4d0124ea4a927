/**
 * `account`: a balance that must stay ≥ 0. `deposit(n)` always succeeds; `withdraw(n)` is decided
 * against the deciding state: the origin's tentative state first, the BFT order when certified.
 * Effects are signed deltas, so tentative states converge, but two withdraws accepted concurrently
 * at different replicas can overdraw tentatively: the certified order rejects one (a rollback).
 *
 * `delete` is decided like `withdraw`: only at balance 0, else rejected `not_empty` (so a deposit
 * ordered before it in the certified order turns an accepted delete into a certified rejection, and
 * the SDK rolls it back). Its effect subtracts nothing (it observed 0) and marks the state deleted,
 * so a concurrent deposit survives it; a key a delete reached reads as absent while its balance is 0
 * (tally.ts), and a certified delete removes the key from the certified state.
 */
import * as z from "../zod.js";
import { DELETE_OP, type DataType } from "./datatype.js";
import { deletedTally, tallyPresent, totalOf, withTotal, type Tally } from "./tally.js";

export const ACCOUNT_AMOUNT_MAX = 1e12;

export type AccountEffect = { delta: number } | { deleted: true };

const amount = z.strictObject({ n: z.int().check(z.minimum(1), z.maximum(ACCOUNT_AMOUNT_MAX)) });
const isDelete = (e: AccountEffect): e is { deleted: true } => "deleted" in e;

export const account: DataType<Tally, AccountEffect> = {
  name: "account",
  args: { deposit: amount, withdraw: amount, [DELETE_OP]: z.strictObject({}) },
  effect: z.union([
    z.strictObject({
      delta: z.int().check(z.minimum(-ACCOUNT_AMOUNT_MAX), z.maximum(ACCOUNT_AMOUNT_MAX)),
    }),
    z.strictObject({ deleted: z.literal(true) }),
  ]),
  initial: () => 0,
  decide(s, op, args) {
    const balance = totalOf(s);
    if (op === DELETE_OP)
      return balance === 0
        ? { status: "ok", effect: { deleted: true } }
        : { status: "rejected", reason: "not_empty", effect: null };
    const n = (args as { n: number }).n;
    if (op === "deposit") return { status: "ok", effect: { delta: n } };
    if (balance < n) return { status: "rejected", reason: "insufficient_funds", effect: null };
    return { status: "ok", effect: { delta: -n } };
  },
  apply: (s, e) => (isDelete(e) ? deletedTally(totalOf(s)) : withTotal(s, totalOf(s) + e.delta)),
  // A delete taken out: the mark stays if another delete of the key is still in the op log.
  unapply: (s, e, others) => {
    if (!isDelete(e)) return withTotal(s, totalOf(s) - e.delta);
    return others().some(isDelete) ? s : totalOf(s);
  },
  value: (s) => totalOf(s),
  present: tallyPresent,
};
