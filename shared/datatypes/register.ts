/**
 * `register`: last-writer-wins. The winner is the greatest (stamp, client, seq). The stamp is not the
 * client's `ts`: tentatively it is the origin replica's hybrid logical clock (`shared/hlc.ts`), so a
 * write wins over everything its replica had seen and no client can pin a value; in the certified
 * order it is the successor of the key's current stamp, so the last write in that order wins.
 *
 * `cas {expected, v}` (compare-and-set) writes `v` only if the register holds `expected` (compared as
 * canonical JSON; `null`: the register is absent, or holds null, which reads the same). It is decided
 * like `account.withdraw`: against the origin's tentative state first (a mismatch there is answered
 * `rejected`, `cas_failed`, recorded, nothing written), then against the certified order, where the
 * register holds what every write before it in that order made it: of two CASes from the same
 * expected value accepted at two replicas, the second in the order is certified `rejected`
 * (`cas_failed`) and its client rolls back. A CAS that holds has the effect of a `set`, so receivers,
 * `unapply` and equivocations treat it as one.
 *
 * `delete` writes a tombstone, stamped and ordered like a write: a write with a greater stamp
 * recreates the key, one with a smaller stamp (a late, older write) loses to the tombstone, which
 * stays in the tentative record for that reason. A register holding a tombstone reads as absent;
 * in the certified order the tombstone is the last write, so the key is removed from the certified
 * state and the next write recreates it.
 */
import * as z from "../zod.js";
import type { Json } from "../canonical.js";
import { canonicalJson, canonicalSize } from "../canonical.js";
import { jsonValue } from "../json-value.js";
import { HLC_ZERO, compareHlc, hlcSchema, tick, type Hlc } from "../hlc.js";
import { DELETE_OP, type DataType } from "./datatype.js";

export const REGISTER_VALUE_BYTES_MAX = 4096;

interface Stamped {
  stamp: Hlc;
  client: string;
  seq: number;
}
/** A write (`v`) or a delete's tombstone (`tomb`), and what orders it. */
export type RegisterState = (Stamped & { v: Json }) | (Stamped & { tomb: true });
export type RegisterEffect = RegisterState;

/** Bounded depth, no `__proto__`, nothing JSON can't carry: see json-value.ts. */
const json: z.ZodMiniType<Json> = jsonValue;

/** A value a register may hold (or a CAS expect): JSON of at most REGISTER_VALUE_BYTES_MAX bytes. */
const boundedValue = json.check(
  z.refine((v) => canonicalSize(v) <= REGISTER_VALUE_BYTES_MAX, {
    message: `value larger than ${REGISTER_VALUE_BYTES_MAX} bytes`,
  }),
);

/** Why a `cas` is rejected: the register did not hold its `expected` value in the deciding state. */
export const CAS_FAILED = "cas_failed";

function wins(a: Stamped, b: Stamped | null): boolean {
  if (!b) return true;
  const c = compareHlc(a.stamp, b.stamp);
  if (c !== 0) return c > 0;
  if (a.client !== b.client) return a.client > b.client;
  return a.seq > b.seq;
}

export const register: DataType<RegisterState | null, RegisterEffect> = {
  name: "register",
  args: {
    set: z.strictObject({ v: boundedValue }),
    cas: z.strictObject({ expected: boundedValue, v: boundedValue }),
    [DELETE_OP]: z.strictObject({}),
  },
  effect: z.union([
    z.strictObject({ v: json, stamp: hlcSchema, client: z.string(), seq: z.int().check(z.minimum(1)) }),
    z.strictObject({
      tomb: z.literal(true),
      stamp: hlcSchema,
      client: z.string(),
      seq: z.int().check(z.minimum(1)),
    }),
  ]),
  initial: () => null,
  decide(s, op, args, ctx) {
    const a = args as { v: Json; expected?: Json };
    // a tombstone and an absent register both hold `null` (as reads show them)
    if (op === "cas" && canonicalJson(a.expected) !== canonicalJson(s && "v" in s ? s.v : null))
      return { status: "rejected", reason: CAS_FAILED, effect: null };
    const stamped: Stamped = {
      stamp: ctx.order.kind === "origin" ? ctx.order.stamp : tick(s?.stamp ?? HLC_ZERO, 0),
      client: ctx.client,
      seq: ctx.seq,
    };
    const effect: RegisterEffect = op === DELETE_OP ? { tomb: true, ...stamped } : { v: a.v, ...stamped };
    return { status: "ok", effect };
  },
  apply: (s, e) => (wins(e, s) ? e : s),
  loses: (s, e) => !wins(e, s),
  // Only the register's current winner needs undoing: the best of the other writes takes its place.
  unapply: (s, e, others) =>
    s && s.client === e.client && s.seq === e.seq && compareHlc(s.stamp, e.stamp) === 0
      ? others().reduce<RegisterState | null>((acc, x) => (wins(x, acc) ? x : acc), null)
      : s,
  stampOf: (e) => e.stamp,
  value: (s) => (s && "v" in s ? s.v : null),
  present: (s) => s !== null && "v" in s,
};
