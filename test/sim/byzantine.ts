/**
 * Byzantine behaviours for at most f simulated nodes. The node runs the real core; what it sends
 * is rewritten here and signed with its own key (it has no other), or injected raw (forgeries).
 */
import { canonicalJson } from "../../shared/canonical.js";
import type { Envelope } from "../../shared/pbft/messages.js";
import type { Outgoing } from "../../shared/pbft/effects.js";
import { proposalDigest } from "../../shared/pbft/digest.js";
import type { Prng } from "./prng.js";

export type ByzantineMode = "silent" | "equivocate" | "wrong-roots" | "replay" | "forge";
export const BYZANTINE_MODES: readonly ByzantineMode[] = [
  "silent",
  "equivocate",
  "wrong-roots",
  "replay",
  "forge",
];

const flip = (hex: string): string => (hex[0] === "0" ? "1" : "0") + hex.slice(1);

/** Rewrite one outgoing effect of a Byzantine node into what it really sends. */
export function rewrite(mode: ByzantineMode, me: number, out: Outgoing, rng: Prng): Outgoing[] {
  if (mode === "silent") return [];
  if (out.forward || !out.msg) return [out];
  const msg = out.msg;
  if (mode === "equivocate") {
    // As primary: half the backups get another batch for the same seq (reordered, a later time).
    if (msg.type === "pre-prepare" && out.proposal) {
      const other = { ...out.proposal, ops: [...out.proposal.ops].reverse(), time: out.proposal.time + 1 };
      const d2 = proposalDigest(other);
      const a = out.to.filter((t) => t === me || t % 2 === 0);
      const b = out.to.filter((t) => t !== me && t % 2 === 1);
      return [
        { to: a, msg, proposal: out.proposal },
        { to: b, msg: { ...msg, digest: d2 }, proposal: other },
        { to: b, msg: { type: "prepare", view: msg.view, seq: msg.seq, digest: d2 } },
      ];
    }
    // View changes: half the nodes hear that nothing was prepared.
    if (msg.type === "view-change" && msg.prepared.length > 0) {
      const b = out.to.filter((t) => t !== me && t % 2 === 1);
      const a = out.to.filter((t) => !b.includes(t));
      return [
        { to: a, msg },
        { to: b, msg: { ...msg, prepared: [] } },
      ];
    }
    // Votes: different digests to different nodes.
    if ((msg.type === "prepare" || msg.type === "commit") && rng.chance(0.5)) {
      const b = out.to.filter((t) => t !== me && t % 2 === 1);
      const a = out.to.filter((t) => !b.includes(t));
      return [
        { to: a, msg },
        { to: b, msg: { ...msg, digest: flip(msg.digest) } },
      ];
    }
    return [out];
  }
  if (mode === "wrong-roots") {
    if (msg.type === "share")
      return [{ to: out.to, msg: { ...msg, body: { ...msg.body, stateRoot: flip(msg.body.stateRoot) } } }];
    if (msg.type === "checkpoint") return [{ to: out.to, msg: { ...msg, digest: flip(msg.digest) } }];
    return [out];
  }
  return [out];
}

/** Raw junk a forging node injects: others' names with its own or no signature, malformed shapes. */
export function forgeries(
  me: number,
  n: number,
  seen: readonly Envelope[],
  rng: Prng,
): { to: number; raw: unknown }[] {
  const out: { to: number; raw: unknown }[] = [];
  const to = rng.int(0, n - 1);
  const victim = (me + rng.int(1, n - 1)) % n;
  const base = seen.length ? seen[rng.int(0, seen.length - 1)]! : null;
  switch (rng.int(0, 5)) {
    case 0:
      if (base) out.push({ to, raw: { ...base, from: victim } }); // someone else's name, its signature no longer matches
      break;
    case 1:
      if (base && base.msg.type === "prepare")
        out.push({ to, raw: { ...base, msg: { ...base.msg, digest: flip(base.msg.digest) } } }); // tampered content
      break;
    case 2:
      out.push({
        to,
        raw: { from: victim, msg: { type: "commit", view: 0, seq: 1, digest: "z" }, sig: "x" },
      });
      break;
    case 3:
      out.push({ to, raw: { from: 99, msg: { type: "status" }, sig: "" } });
      break;
    case 4:
      out.push({ to, raw: JSON.parse(canonicalJson({ junk: [1, 2, 3] })) });
      break;
    default:
      if (base) out.push({ to, raw: { ...base, sig: base.sig.split("").reverse().join("") } });
  }
  return out;
}
