/**
 * `register`: last-writer-wins. The winner is the greatest (ts, client, seq); ts is the writer's
 * clock, bounded by the origin replica against its own, so a writer can't win far into the future.
 */
import { z } from "zod";
import type { Json } from "../canonical.js";
import { canonicalSize } from "../canonical.js";
import { jsonValue } from "../json-value.js";
import type { DataType } from "./datatype.js";

export const REGISTER_VALUE_BYTES_MAX = 4096;

export interface RegisterState {
  v: Json;
  ts: number;
  client: string;
  seq: number;
}
export type RegisterEffect = RegisterState;

/** Bounded depth, no `__proto__`, nothing JSON can't carry: see json-value.ts. */
const json: z.ZodType<Json> = jsonValue;

function wins(a: RegisterState, b: RegisterState | null): boolean {
  if (!b) return true;
  if (a.ts !== b.ts) return a.ts > b.ts;
  if (a.client !== b.client) return a.client > b.client;
  return a.seq > b.seq;
}

export const register: DataType<RegisterState | null, RegisterEffect> = {
  name: "register",
  args: {
    set: z.strictObject({
      v: json.refine((v) => canonicalSize(v) <= REGISTER_VALUE_BYTES_MAX, {
        message: `value larger than ${REGISTER_VALUE_BYTES_MAX} bytes`,
      }),
    }),
  },
  effect: z.strictObject({ v: json, ts: z.int().min(0), client: z.string(), seq: z.int().min(1) }),
  initial: () => null,
  decide: (_s, _op, args, ctx) => ({
    status: "ok",
    effect: { v: (args as { v: Json }).v, ts: ctx.ts, client: ctx.client, seq: ctx.seq },
  }),
  apply: (s, e) => (wins(e, s) ? e : s),
  value: (s) => (s ? s.v : null),
};
