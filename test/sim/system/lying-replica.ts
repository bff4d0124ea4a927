/**
 * What a Byzantine replica does to the entries it sends its peers (queue messages, re-sends and
 * anti-entropy answers), with the keys it holds (its own, none of a client's): a broken client
 * signature, a lying effect under a real signed op, a register stamp far ahead of every clock, an
 * entry moved to another position, or another replica's op passed off as its own. Honest receivers
 * must refuse what they can and correct the rest when the op is certified (the rebase); the checks
 * after every step say whether they did.
 */
import type { ReplicatedOp } from "../../../shared/replication.js";
import type { Prng } from "../prng.js";

export const REPLICA_LIES = ["forged", "effect", "stamp-ahead", "moved", "relay"] as const;
export type ReplicaLie = (typeof REPLICA_LIES)[number];

const flipChar = (s: string): string => (s[0] === "A" ? "B" : "A") + s.slice(1);

/** One entry lied about (or `undefined`: this lie does not fit the entry); the lie's name. */
function lieAbout(
  rng: Prng,
  e: ReplicatedOp,
  others: readonly ReplicatedOp[],
): { lie: ReplicaLie; entry: ReplicatedOp } | undefined {
  const kind = rng.pick(REPLICA_LIES);
  const fx = e.effect as Record<string, unknown> | null;
  switch (kind) {
    case "forged": {
      // another content under the client's signature (so it does not verify): a bigger amount
      const args = e.op.args as Record<string, unknown>;
      if (typeof args.n === "number" && fx && (typeof fx.n === "number" || typeof fx.delta === "number"))
        return {
          lie: kind,
          entry: {
            ...e,
            op: { ...e.op, args: { ...args, n: args.n + 1 } },
            effect:
              typeof fx.n === "number"
                ? { ...fx, n: fx.n + 1 }
                : { ...fx, delta: (fx.delta as number) + Math.sign(fx.delta as number) },
          },
        };
      return { lie: kind, entry: { ...e, op: { ...e.op, sig: flipChar(e.op.sig) } } };
    }
    case "effect":
      if (e.op.type === "counter" && fx && typeof fx.n === "number")
        return { lie: kind, entry: { ...e, effect: { ...fx, n: fx.n * 10 + 1 } } };
      if (e.op.type === "account" && fx && typeof fx.delta === "number")
        return { lie: kind, entry: { ...e, effect: { ...fx, delta: fx.delta + 1000 } } };
      if (e.op.type === "register" && fx)
        return { lie: kind, entry: { ...e, effect: { ...fx, v: "a lie" } } };
      return undefined;
    case "stamp-ahead": {
      const stamp = fx?.stamp as { wall: number; logical: number } | undefined;
      if (e.op.type !== "register" || !stamp) return undefined;
      return {
        lie: kind,
        entry: { ...e, effect: { ...fx, stamp: { ...stamp, wall: stamp.wall + 60_000 } } },
      };
    }
    case "moved":
      return e.pos === undefined ? undefined : { lie: kind, entry: { ...e, pos: e.pos + rng.int(1, 5) } };
    case "relay": {
      const o = others.length ? rng.pick(others) : undefined;
      return o && o.op !== e.op ? { lie: kind, entry: { ...o, pos: e.pos } } : undefined;
    }
  }
}

/** The entries with some lied about (each with chance `rate`); the lies told, by name. */
export function lieInEntries(
  rng: Prng,
  entries: readonly ReplicatedOp[],
  rate: number,
  others: readonly ReplicatedOp[],
): { entries: ReplicatedOp[]; lies: ReplicaLie[] } {
  const lies: ReplicaLie[] = [];
  const out = entries.map((e) => {
    if (!rng.chance(rate)) return e;
    const l = lieAbout(rng, e, others);
    if (!l) return e;
    lies.push(l.lie);
    return l.entry;
  });
  return { entries: out, lies };
}
