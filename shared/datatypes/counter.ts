/**
 * `counter`: a PN-counter. `add(n)` with any safe integer n; effects are sums, so they commute.
 * `delete` is observed-remove: it subtracts the total its deciding state observed (`reset`), so an
 * add concurrent with it survives (the key then reads as that add's total), and marks the state
 * deleted: a key a delete reached reads as absent while its total is 0 (tally.ts). In the certified
 * order the deciding state is the whole certified record, so a certified delete empties the key and
 * the key is removed from the certified state.
 */
import * as z from "../zod.js";
import { DELETE_OP, type DataType } from "./datatype.js";
import { deletedTally, tallyPresent, totalOf, withTotal, type Tally } from "./tally.js";

export const COUNTER_STEP_MAX = 1e12;

/** `reset`: a delete, the total it observed (any safe integer: a total is not bounded by a step). */
export type CounterEffect = { n: number } | { reset: number };

const step = z.int().check(z.minimum(-COUNTER_STEP_MAX), z.maximum(COUNTER_STEP_MAX));
const isReset = (e: CounterEffect): e is { reset: number } => "reset" in e;

export const counter: DataType<Tally, CounterEffect> = {
  name: "counter",
  args: {
    add: z.strictObject({ n: step }),
    [DELETE_OP]: z.strictObject({}),
  },
  effect: z.union([z.strictObject({ n: step }), z.strictObject({ reset: z.int() })]),
  initial: () => 0,
  decide: (s, op, args) =>
    op === DELETE_OP
      ? { status: "ok", effect: { reset: totalOf(s) } }
      : { status: "ok", effect: { n: (args as { n: number }).n } },
  apply: (s, e) => (isReset(e) ? deletedTally(totalOf(s) - e.reset) : withTotal(s, totalOf(s) + e.n)),
  // A delete taken out: the mark stays if another delete of the key is still in the op log.
  unapply: (s, e, others) => {
    if (!isReset(e)) return withTotal(s, totalOf(s) - e.n);
    const n = totalOf(s) + e.reset;
    return others().some(isReset) ? deletedTally(n) : n;
  },
  value: (s) => totalOf(s),
  present: tallyPresent,
};
