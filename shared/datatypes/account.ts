/**
 * `account`: a balance that must stay ≥ 0. `deposit(n)` always succeeds; `withdraw(n)` is decided
 * against the deciding state: the origin's tentative state first, the BFT order when certified.
 * Effects are signed deltas, so tentative states converge, but two withdraws accepted concurrently
 * at different replicas can overdraw tentatively: the certified order rejects one (a rollback).
 */
import * as z from "../zod.js";
import type { DataType } from "./datatype.js";

export const ACCOUNT_AMOUNT_MAX = 1e12;

export interface AccountEffect {
  delta: number;
}

const amount = z.strictObject({ n: z.int().check(z.minimum(1), z.maximum(ACCOUNT_AMOUNT_MAX)) });

export const account: DataType<number, AccountEffect> = {
  name: "account",
  args: { deposit: amount, withdraw: amount },
  effect: z.strictObject({
    delta: z.int().check(z.minimum(-ACCOUNT_AMOUNT_MAX), z.maximum(ACCOUNT_AMOUNT_MAX)),
  }),
  initial: () => 0,
  decide(balance, op, args) {
    const n = (args as { n: number }).n;
    if (op === "deposit") return { status: "ok", effect: { delta: n } };
    if (balance < n) return { status: "rejected", reason: "insufficient_funds", effect: null };
    return { status: "ok", effect: { delta: -n } };
  },
  apply: (s, e) => s + e.delta,
  unapply: (s, e) => s - e.delta,
  value: (s) => s,
};
