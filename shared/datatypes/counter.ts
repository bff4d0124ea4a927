/** `counter`: a PN-counter. `add(n)` with any safe integer n; effects are sums, so they commute. */
import { z } from "zod";
import type { DataType } from "./datatype.js";

export const COUNTER_STEP_MAX = 1e12;

export interface CounterEffect {
  n: number;
}

export const counter: DataType<number, CounterEffect> = {
  name: "counter",
  args: {
    add: z.strictObject({ n: z.int().min(-COUNTER_STEP_MAX).max(COUNTER_STEP_MAX) }),
  },
  effect: z.strictObject({ n: z.int().min(-COUNTER_STEP_MAX).max(COUNTER_STEP_MAX) }),
  initial: () => 0,
  decide: (_s, _op, args) => ({ status: "ok", effect: { n: (args as CounterEffect).n } }),
  apply: (s, e) => s + e.n,
  unapply: (s, e) => s - e.n,
  value: (s) => s,
};
