/** `counter`: a PN-counter. `add(n)` with any safe integer n; effects are sums, so they commute. */
import * as z from "../zod.js";
import type { DataType } from "./datatype.js";

export const COUNTER_STEP_MAX = 1e12;

export interface CounterEffect {
  n: number;
}

const step = z.int().check(z.minimum(-COUNTER_STEP_MAX), z.maximum(COUNTER_STEP_MAX));

export const counter: DataType<number, CounterEffect> = {
  name: "counter",
  args: {
    add: z.strictObject({ n: step }),
  },
  effect: z.strictObject({ n: step }),
  initial: () => 0,
  decide: (_s, _op, args) => ({ status: "ok", effect: { n: (args as CounterEffect).n } }),
  apply: (s, e) => s + e.n,
  unapply: (s, e) => s - e.n,
  value: (s) => s,
};
