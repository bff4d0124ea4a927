/**
 * `namespace`: who may write in a namespace (shared/namespaces/). Its record lives at `@<name>`; its
 * state maps each member (a client's public key, or `*` for everyone) to a role, last writer wins
 * per member, ordered like a register's writes (origin HLC stamp tentatively, the successor of the
 * record's greatest stamp in the certified order), so replicas that applied the same effects agree
 * whatever the order. A revoke leaves the member with role null (a tombstone, so an older grant
 * arriving later does not bring the member back). The namespace is claimed once it has any member.
 *
 * Ops: `claim` (the client becomes `owner`), `grant {publicKey, role}`, `revoke {publicKey}`. A
 * record holds at most `NAMESPACE_MEMBERS_MAX` members, revoked ones included (every namespace op
 * rewrites and rehashes the whole record): a grant to one more is rejected `namespace_full`. A
 * revoke of a member the deciding state does not hold changes nothing.
 * Whether the client may run them is not decided here but by `authorize` (shared/namespaces/
 * authorize.ts), which both deciders (the origin replica and the certified order) run first: a
 * claim of a claimed namespace is rejected `namespace_taken`, a grant or revoke by a non-owner
 * `not_authorized`.
 */
import * as z from "../zod.js";
import type { Json } from "../canonical.js";
import { HLC_ZERO, compareHlc, hlcSchema, maxHlc, tick, type Hlc } from "../hlc.js";
import { B64U_RE, CLIENT_CHARS } from "../op-limits.js";
import { EVERYONE, OWNER, ROLES } from "../namespaces/roles.js";
import type { DataType } from "./datatype.js";

export interface Membership {
  /** null: revoked. */
  role: string | null;
  stamp: Hlc;
  /** The op that wrote it (ties between equal stamps). */
  client: string;
  seq: number;
}
/** Member → membership; `Object.create(null)`-free plain object, members are base64url keys or `*`. */
export type NamespaceState = { [member: string]: Membership };
export interface NamespaceEffect extends Membership {
  member: string;
}

/** Members a record holds at most (revoked ones too): bounds its row, its hashing and its reads. */
export const NAMESPACE_MEMBERS_MAX = 256;

const publicKey = z.string().check(z.length(CLIENT_CHARS), z.regex(B64U_RE, "not base64url"));
/** A client's public key or `*` (everyone): one pattern (the OpenAPI document shows it), one message. */
const member = z.string().check(
  z.regex(new RegExp(`^(\\*|[A-Za-z0-9_-]{${CLIENT_CHARS}})$`), {
    message: `expected a client's public key (${CLIENT_CHARS} characters of base64url) or '*' (everyone)`,
  }),
);
const role = z.enum(ROLES as [string, ...string[]]);

function wins(a: Membership, b: Membership | undefined): boolean {
  if (!b) return true;
  const c = compareHlc(a.stamp, b.stamp);
  if (c !== 0) return c > 0;
  if (a.client !== b.client) return a.client > b.client;
  return a.seq > b.seq;
}

const latestStamp = (s: NamespaceState): Hlc =>
  Object.values(s).reduce((m, x) => maxHlc(m, x.stamp), HLC_ZERO);

const membershipOf = ({ role, stamp, client, seq }: NamespaceEffect): Membership => ({
  role,
  stamp,
  client,
  seq,
});

export const namespace: DataType<NamespaceState, NamespaceEffect> = {
  name: "namespace",
  args: {
    claim: z.strictObject({}),
    grant: z.strictObject({ publicKey: member, role }).check(
      z.refine((a) => !(a.publicKey === EVERYONE && a.role === OWNER), {
        message: "'*' (everyone) cannot be made an owner",
      }),
    ),
    revoke: z.strictObject({ publicKey: member }),
  },
  effect: z.strictObject({
    member,
    role: z.nullable(role),
    stamp: hlcSchema,
    client: publicKey,
    seq: z.int().check(z.minimum(1)),
  }),
  initial: () => ({}),
  decide(s, op, args, ctx) {
    const stamp = ctx.order.kind === "origin" ? ctx.order.stamp : tick(latestStamp(s), 0);
    const a = args as { publicKey?: string; role?: string };
    const [m, r] =
      op === "claim" ? [ctx.client, OWNER] : op === "grant" ? [a.publicKey!, a.role!] : [a.publicKey!, null];
    const held = Object.hasOwn(s, m);
    if (r === null && !held) return { status: "ok", effect: null };
    if (!held && Object.keys(s).length >= NAMESPACE_MEMBERS_MAX)
      return { status: "rejected", reason: "namespace_full", effect: null };
    return { status: "ok", effect: { member: m, role: r, stamp, client: ctx.client, seq: ctx.seq } };
  },
  apply: (s, e) =>
    wins(e, Object.hasOwn(s, e.member) ? s[e.member] : undefined) ? { ...s, [e.member]: membershipOf(e) } : s,
  loses: (s, e) => !wins(e, Object.hasOwn(s, e.member) ? s[e.member] : undefined),
  // Only a member's current winner needs undoing: the best of the other writes to it takes its place.
  unapply(s, e, others) {
    const cur = Object.hasOwn(s, e.member) ? s[e.member] : undefined;
    if (!cur || cur.client !== e.client || cur.seq !== e.seq || compareHlc(cur.stamp, e.stamp) !== 0)
      return s;
    const best = others()
      .filter((x) => x.member === e.member)
      .reduce<NamespaceEffect | undefined>((acc, x) => (wins(x, acc) ? x : acc), undefined);
    const { [e.member]: _gone, ...rest } = s;
    return best ? { ...rest, [e.member]: membershipOf(best) } : rest;
  },
  stampOf: (e) => e.stamp,
  value(s): Json {
    const out: { [member: string]: Json } = {};
    for (const m of Object.keys(s).sort()) if (s[m]!.role !== null) out[m] = s[m]!.role;
    return out;
  },
};

/** The role `member` holds in a namespace record's state (undefined: none, or revoked). */
export const roleIn = (s: NamespaceState, member: string): string | undefined =>
  (Object.hasOwn(s, member) ? s[member]!.role : null) ?? undefined;

/** Has the namespace been claimed (any member ever written, revoked ones included)? */
export const isClaimed = (s: NamespaceState): boolean => Object.keys(s).length > 0;
