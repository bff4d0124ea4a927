/**
 * DEV ONLY: fault injection for a PBFT node (tests and demos of "a node that goes silent,
 * equivocates as primary, or signs wrong roots"). Pure: the PbftNode Durable Object keeps the
 * switched-on modes in its SQLite and plugs `rewriteFaulty` into the driver's `rewrite` hook; they
 * act only when `faultInjectionAllowed` (ENVIRONMENT "dev" and the FAULT_TOKEN given), the same
 * rule as the replicas' faults.
 *
 * A fault changes only what leaves the node: its own core still hears its real messages (what it
 * addresses to itself goes unrewritten), so it stays correct and, once the fault is switched off,
 * simply takes part again. Modes (after the simulator's Byzantine behaviours, test/sim/byzantine.ts):
 *
 * - `silent`: nothing leaves the node — no message to a peer (no vote, share, STATUS answer,
 *   state chunk) and no certificate posted. It still hears and executes.
 * - `equivocate`: as primary, each PRE-PREPARE of a non-empty batch goes to the first backup as
 *   proposed, and a conflicting one for the same view and seq (the ops reversed, time + 1 ms: another
 *   digest) to the other backups. Deterministic, so a retransmission repeats the same split.
 * - `wrongRoots`: its certificate shares are signed over the body with a wrong `stateRoot` (first
 *   hex digit flipped), and its checkpoints carry a wrong digest, all validly signed. No right
 *   signature of its own leaves it either: a certificate it posts goes without its own signature
 *   (with only 2f+1, replicas refuse it, and the seq arrives from the fallback poster instead).
 */
import type { Certificate } from "../certified/types.js";
import type { Outgoing } from "./effects.js";
import { proposalDigest } from "./digest.js";

export { FAULT_INJECTION_OFF, faultInjectionAllowed } from "../config.js";

export const NODE_FAULT_MODES = ["silent", "equivocate", "wrongRoots"] as const;
export type NodeFaultMode = (typeof NODE_FAULT_MODES)[number];
/** The modes switched on (absent or false: off). */
export type NodeFaults = Partial<Record<NodeFaultMode, boolean>>;

/** The known modes switched on in `raw` (anything else is ignored). */
export function parseNodeFaults(raw: unknown): NodeFaults {
  const out: NodeFaults = {};
  if (typeof raw !== "object" || raw === null) return out;
  for (const m of NODE_FAULT_MODES) if ((raw as Record<string, unknown>)[m] === true) out[m] = true;
  return out;
}

export const anyFault = (f: NodeFaults): boolean => NODE_FAULT_MODES.some((m) => f[m] === true);

/** Whether the node posts certificates at all (a silent one does not). */
export const postsCertificates = (f: NodeFaults): boolean => f.silent !== true;

/** The certificate node `me` posts (under `wrongRoots`: without its own signature). */
export function certificateToPost(faults: NodeFaults, c: Certificate, me: number): Certificate {
  return faults.wrongRoots ? { ...c, sigs: c.sigs.filter((x) => x.node !== me) } : c;
}

const flip = (hex: string): string => (hex[0] === "0" ? "1" : "0") + hex.slice(1);

const withTo = (out: Outgoing, to: number[]): Outgoing => ({ ...out, to }) as Outgoing;

/**
 * What node `me` really sends instead of `out`. Its own copy (when `out` is addressed to `me`)
 * always goes unchanged, so that its core hears what it really decided.
 */
export function rewriteFaulty(faults: NodeFaults, out: Outgoing, me: number): Outgoing[] {
  if (!anyFault(faults)) return [out];
  const others = out.to.filter((t) => t !== me);
  const own = others.length < out.to.length ? [withTo(out, [me])] : [];
  if (others.length === 0 || faults.silent) return own;
  let outs: Outgoing[] = [withTo(out, others)];
  if (faults.equivocate) outs = outs.flatMap(equivocate);
  if (faults.wrongRoots) outs = outs.map(wrongRoots);
  return [...own, ...outs];
}

function equivocate(out: Outgoing): Outgoing[] {
  const msg = out.msg;
  if (!msg || msg.type !== "pre-prepare" || !out.proposal || out.proposal.ops.length === 0) return [out];
  if (out.to.length < 2) return [out];
  const other = { ...out.proposal, ops: [...out.proposal.ops].reverse(), time: out.proposal.time + 1 };
  const [first, ...rest] = [...out.to].sort((a, b) => a - b);
  return [
    { to: [first!], msg, proposal: out.proposal },
    { to: rest, msg: { ...msg, digest: proposalDigest(other) }, proposal: other },
  ];
}

function wrongRoots(out: Outgoing): Outgoing {
  const msg = out.msg;
  if (!msg) return out;
  if (msg.type === "share")
    return { to: out.to, msg: { ...msg, body: { ...msg.body, stateRoot: flip(msg.body.stateRoot) } } };
  if (msg.type === "checkpoint") return { to: out.to, msg: { ...msg, digest: flip(msg.digest) } };
  return out;
}
