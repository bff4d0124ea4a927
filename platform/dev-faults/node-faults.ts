/**
 * DEV ONLY: fault injection for a PBFT node (tests and demos of "a node that goes silent,
 * equivocates as primary, or signs wrong roots"). Pure: the wrapper (./node.ts) keeps the
 * switched-on modes in the node's SQLite and applies them at the node's boundary
 * (platform/node-boundary.ts; `rewriteFaulty` is the driver's `rewrite` hook); it is installed only
 * when `faultInjectionAllowed` (ENVIRONMENT "dev" and the FAULT_TOKEN given), as the replicas' is.
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
 * - `delayMs: [min, max]`: not a lie, a slow network — each send to a peer waits a delay drawn from
 *   [min, max] ms (the shell's timer per send; `sendDelayMs`), to measure certification under
 *   inter-region latency. Messages may then arrive out of order, which the protocol tolerates.
 * - `wrongRoots`: its certificate shares are signed over the body with a wrong `stateRoot` (first
 *   hex digit flipped), and its checkpoints carry a wrong digest, all validly signed. No right
 *   certificate signature of its own leaves it either: every certificate that leaves it (posted,
 *   sent to a peer that lacks it, served to a replica catching up) goes without its own signature
 *   (with only 2f+1, the receiver refuses it; the seq arrives from the fallback poster or another
 *   node instead).
 * - `noPost`: it posts no certificate (neither as a seq's poster nor as its fallback): what every
 *   queued copy lost looks like. It still votes, and serves its kept batches to replicas that ask.
 * - `forgeBatches`: the certified batches it serves to replicas that ask (`certifiedBatches`) are
 *   tampered with (`forgeBatch`): replicas must refuse them and fetch from another node.
 * - `mangledPosts`: what it posts and serves is a genuine certified batch, but not its wire text:
 *   by seq, the batch as an object carrying values only structured clone keeps (`undefined`, `NaN`,
 *   a `Date`, a `Map`, a typed array, a `BigInt`) or the text with an extra member in an op or in
 *   the certificate (`mangle`). Replicas must refuse each before verifying or executing anything,
 *   never diverge over it, and take the seq from the fallback poster or another node.
 * - `hangPosts`: every certificate it posts (as poster or fallback) waits until the fault is off
 *   before it is sent (a queue or replica that accepts the call and never answers): the node's own
 *   loop must keep ticking, and the seq arrive from the other poster.
 * - `hang`: it accepts every call from peers and replicas (`deliver`, `submit`, `certifiedHead`,
 *   `certifiedBatches`) and does not answer for HANG_MS: callers' deadlines must cut it off.
 */
import type { Certificate } from "../../shared/certified/types.js";
import type { Outgoing } from "../../shared/pbft/effects.js";
import { proposalDigest } from "../../shared/pbft/digest.js";

export const NODE_FAULT_MODES = [
  "silent",
  "equivocate",
  "wrongRoots",
  "noPost",
  "forgeBatches",
  "mangledPosts",
  "hang",
  "hangPosts",
] as const;
export type NodeFaultMode = (typeof NODE_FAULT_MODES)[number];
/**
 * The modes switched on (absent or false: off), and `delayMs: [min, max]`: every message to a peer
 * leaves this node after a delay drawn uniformly from [min, max] ms (inter-region hops for the
 * benchmark; the shell applies it, per send, without holding up the step).
 */
export type NodeFaults = Partial<Record<NodeFaultMode, boolean>> & { delayMs?: readonly [number, number] };

/** The largest per-hop delay accepted (longer than every timer of the core would be a partition). */
export const NODE_DELAY_MS_MAX = 10_000;

/** The known modes switched on in `raw`, and a well-formed `delayMs` (anything else is ignored). */
export function parseNodeFaults(raw: unknown): NodeFaults {
  const out: NodeFaults = {};
  if (typeof raw !== "object" || raw === null) return out;
  const r = raw as Record<string, unknown>;
  for (const m of NODE_FAULT_MODES) if (r[m] === true) out[m] = true;
  const d = r.delayMs;
  if (
    Array.isArray(d) &&
    d.length === 2 &&
    d.every((x) => Number.isSafeInteger(x)) &&
    0 <= d[0] &&
    d[0] <= d[1] &&
    d[1] <= NODE_DELAY_MS_MAX &&
    d[1] > 0
  )
    out.delayMs = [d[0] as number, d[1] as number];
  return out;
}

/** The modes that change the node's protocol messages (the others act on what it posts or serves). */
const MESSAGE_FAULT_MODES = ["silent", "equivocate", "wrongRoots"] as const;

/** The delay before one send (ms, 0: none), drawn from `delayMs` with `random` ∈ [0, 1). */
export function sendDelayMs(faults: NodeFaults, random: number): number {
  const d = faults.delayMs;
  if (!d) return 0;
  return d[0] + Math.floor(random * (d[1] - d[0] + 1));
}

export const anyFault = (f: NodeFaults): boolean => MESSAGE_FAULT_MODES.some((m) => f[m] === true);

/** Whether the node posts certificates at all (a silent or `noPost` one does not). */
export const postsCertificates = (f: NodeFaults): boolean => f.silent !== true && f.noPost !== true;

/** How long a `hang` node holds a call before it answers nothing (longer than every caller's deadline). */
export const HANG_MS = 10 * 60_000;

/** Whether the node answers replicas asking for its kept certified batches (a silent one does not). */
export const servesBatches = (f: NodeFaults): boolean => f.silent !== true;

/**
 * What a `forgeBatches` node serves instead of a kept batch: deterministic, one of two forgeries by
 * seq, so both of a replica's checks are met. Odd seqs with ops: the last op dropped under the real
 * certificate (the log chain no longer matches). Otherwise: the certificate's `stateRoot` changed
 * under its signatures (they no longer verify).
 */
export function forgeBatch<B extends { certificate: Certificate; ops: readonly unknown[] }>(b: B): B {
  const body = b.certificate.body;
  if (body.seq % 2 === 1 && b.ops.length > 0) return { ...b, ops: b.ops.slice(0, -1) };
  return { ...b, certificate: { ...b.certificate, body: { ...body, stateRoot: flip(body.stateRoot) } } };
}

/**
 * The certificate node `me` lets out — posts, sends to a peer, serves to a replica — as `c` (under
 * `wrongRoots`: without its own signature, so no right signature of it leaves the node).
 */
export function certificateLeaving(faults: NodeFaults, c: Certificate, me: number): Certificate {
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
  if (faults.wrongRoots) outs = outs.map((o) => wrongRoots(o, me));
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

function wrongRoots(out: Outgoing, me: number): Outgoing {
  const msg = out.msg;
  if (!msg) return out;
  if (msg.type === "certificate")
    return {
      to: out.to,
      msg: { ...msg, certificate: certificateLeaving({ wrongRoots: true }, msg.certificate, me) },
    };
  if (msg.type === "share")
    return { to: out.to, msg: { ...msg, body: { ...msg.body, stateRoot: flip(msg.body.stateRoot) } } };
  if (msg.type === "checkpoint") return { to: out.to, msg: { ...msg, digest: flip(msg.digest) } };
  return out;
}

/**
 * What a `mangledPosts` node puts on the wire instead of a batch's text: the same genuine batch, one
 * of six ways by seq. Objects go as structured clones (queue messages and RPC keep them); texts carry
 * a member no schema knows. Each must be refused by a replica before anything is verified.
 */
export function mangle(b: { certificate: Certificate; ops: readonly unknown[] }, text: string): unknown {
  const seq = b.certificate.body.seq;
  const ops = b.ops.map((op, i) => (i === 0 ? { ...(op as object), note: undefined } : op));
  switch (seq % 6) {
    case 0:
      return { certificate: b.certificate, ops }; // an op with an `undefined` member: JSON drops it
    case 1:
      return { certificate: { ...b.certificate, at: new Date(0) }, ops: b.ops };
    case 2:
      return { certificate: { ...b.certificate, body: { ...b.certificate.body, weight: NaN } }, ops: b.ops };
    case 3:
      return {
        certificate: b.certificate,
        ops: b.ops,
        extra: new Map([[1, new Uint8Array(2)]]),
        n: BigInt(1),
      };
    case 4:
      return b.ops.length > 0
        ? text.replace('"ops":[{', '"ops":[{"extra":null,')
        : text.replace("{", '{"extra":0,');
    default:
      return text.replace('"certificate":{', '"certificate":{"extra":[],');
  }
}
