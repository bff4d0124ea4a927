/**
 * Byzantine behaviours for at most f simulated nodes. The node runs the real core; what it sends
 * is rewritten here and signed with its own key (it has no other), or injected (hostile.ts,
 * forgeries). Its own core hears its real messages (the world loops back the unrewritten ones).
 */
import { canonicalJson } from "../../shared/canonical.js";
import { primaryOf, quorum } from "../../shared/pbft/config.js";
import type { Outgoing } from "../../shared/pbft/effects.js";
import type { Envelope, NewView, StateChunkMsg, ViewChange } from "../../shared/pbft/messages.js";
import type { PbftReplica } from "../../shared/pbft/replica.js";
import { proposalDigest } from "../../shared/pbft/digest.js";
import { computeReproposals } from "../../shared/pbft/view-change.js";
import type { AdversaryMemory } from "./memory.js";
import type { ByzantineBehaviour } from "./modes.js";
import type { Prng } from "./prng.js";
import { tamperChunk } from "./tamper.js";

export { BYZANTINE_BEHAVIOURS, type ByzantineBehaviour } from "./modes.js";
/** The older name of a behaviour (one per node then). */
export type ByzantineMode = ByzantineBehaviour;

/** What a Byzantine node has to work with: its core, its memory, its key. */
export interface ByzantineContext {
  me: number;
  n: number;
  f: number;
  rng: Prng;
  replica: PbftReplica;
  mem: AdversaryMemory;
  /** Sign as this node. */
  seal(out: Outgoing): Promise<Envelope>;
  /** Count an attack made (the run's summary shows what each mode did). */
  count(what: string): void;
}

/** One message as really sent; `tampered` marks a state chunk a correct node must never keep. */
export interface Sent {
  out: Outgoing;
  tampered?: boolean;
}

export const flip = (hex: string): string => (hex[0] === "0" ? "1" : "0") + hex.slice(1);

/** Rewrite one outgoing effect into what the node really sends (to itself as well as to others). */
export async function rewrite(
  bs: ReadonlySet<ByzantineBehaviour>,
  out: Outgoing,
  ctx: ByzantineContext,
): Promise<Sent[]> {
  if (bs.has("silent")) return [];
  let outs: Sent[] = [{ out }];
  if (bs.has("withhold-shares")) outs = outs.filter((o) => typeOf(o.out) !== "share");
  if (bs.has("equivocate")) outs = outs.flatMap((o) => equivocate(o.out, ctx).map((out) => ({ out })));
  if (bs.has("wrong-roots")) outs = outs.map((o) => ({ out: wrongRoots(o.out) }));
  if (bs.has("new-view-equivocate")) {
    // In views it does not lead it votes sparingly, so that batches prepare at some nodes only and
    // the VIEW-CHANGEs it can choose from disagree.
    outs = outs.filter((o) => !sparseVote(o.out, ctx));
    const next: Sent[] = [];
    for (const o of outs) next.push(...(await conflictingNewViews(o.out, ctx)));
    outs = next;
  }
  if (bs.has("tamper-state")) outs = outs.map((o) => tamperOutgoing(o, ctx));
  return outs.filter((o) => o.out.to.length > 0);
}

const typeOf = (out: Outgoing): string => (out.msg ? out.msg.type : out.forward.msg.type);

/** Split targets into two halves (by parity of the node index). */
function halves(to: readonly number[]): [number[], number[]] {
  return [to.filter((t) => t % 2 === 0), to.filter((t) => t % 2 === 1)];
}

function equivocate(out: Outgoing, ctx: ByzantineContext): Outgoing[] {
  if (out.forward || !out.msg) return [out];
  const msg = out.msg;
  // As primary: half the backups get another batch for the same seq (reordered, a later time).
  if (msg.type === "pre-prepare" && out.proposal) {
    const other = { ...out.proposal, ops: [...out.proposal.ops].reverse(), time: out.proposal.time + 1 };
    const d2 = proposalDigest(other);
    const [a, b] = halves(out.to);
    return [
      { to: a, msg, proposal: out.proposal },
      { to: b, msg: { ...msg, digest: d2 }, proposal: other },
      { to: b, msg: { type: "prepare", view: msg.view, seq: msg.seq, digest: d2 } },
    ];
  }
  // View changes: half the nodes hear that nothing was prepared.
  if (msg.type === "view-change" && msg.prepared.length > 0) {
    const [a, b] = halves(out.to);
    return [
      { to: a, msg },
      { to: b, msg: { ...msg, prepared: [] } },
    ];
  }
  // Votes: different digests to different nodes.
  if ((msg.type === "prepare" || msg.type === "commit") && ctx.rng.chance(0.5)) {
    const [a, b] = halves(out.to);
    return [
      { to: a, msg },
      { to: b, msg: { ...msg, digest: flip(msg.digest) } },
    ];
  }
  return [out];
}

function wrongRoots(out: Outgoing): Outgoing {
  if (out.forward || !out.msg) return out;
  const msg = out.msg;
  if (msg.type === "share")
    return { to: out.to, msg: { ...msg, body: { ...msg.body, stateRoot: flip(msg.body.stateRoot) } } };
  if (msg.type === "checkpoint") return { to: out.to, msg: { ...msg, digest: flip(msg.digest) } };
  return out;
}

/**
 * As primary of a view: the NEW-VIEW its core built goes to half the nodes, a NEW-VIEW built from
 * another quorum of VIEW-CHANGEs (its own saying nothing prepared, then those carrying the fewest
 * prepared certificates) to the others. Re-sent NEW-VIEWs (STATUS answers) are swapped too.
 */
async function conflictingNewViews(out: Outgoing, ctx: ByzantineContext): Promise<Sent[]> {
  const own = out.msg ?? (out.forward.from === ctx.me ? out.forward.msg : null);
  if (!own || own.type !== "new-view") return [{ out }];
  const alt = await alternativeNewView(own.view, own.viewChanges, ctx);
  if (!alt) return (ctx.count("new_view.no_alternative"), [{ out }]);
  ctx.count("new_view.conflicting");
  const reproposed = (nv: NewView) =>
    canonicalJson(
      computeReproposals(
        nv.view,
        nv.viewChanges.map((e) => e.msg),
      ).entries.map((e) => e.digest),
    );
  if (reproposed(own) !== reproposed(alt)) ctx.count("new_view.conflicting_reproposals");
  if (out.to.length === 1) return [{ out: ctx.rng.chance(0.5) ? out : { to: out.to, msg: alt } }];
  // A random split: which nodes (its own core among them) install which NEW-VIEW.
  const to = ctx.rng.shuffle([...out.to]);
  const k = ctx.rng.int(1, to.length - 1);
  return [{ out: { ...out, to: to.slice(0, k) } as Outgoing }, { out: { to: to.slice(k), msg: alt } }];
}

/** A valid NEW-VIEW for `view` from a quorum other than `used`, or null if there is none. */
export async function alternativeNewView(
  view: number,
  used: readonly Envelope<ViewChange>[],
  ctx: ByzantineContext,
): Promise<NewView | null> {
  if (primaryOf(view, ctx.n) !== ctx.me) return null;
  const s = ctx.replica.state;
  const hiding = (await ctx.seal({
    to: [],
    msg: { type: "view-change", view, checkpoint: s.stable, prepared: [] },
  })) as Envelope<ViewChange>;
  const usedKeys = new Set(used.map((e) => `${e.from}|${e.sig}`));
  const candidates = [hiding, ...ctx.mem.viewChangesFor(view), ...s.viewChanges.values()].filter(
    (e) => e.msg.view === view,
  );
  // Own hiding VIEW-CHANGE first; then unused before used, fewest prepared certificates first.
  const rank = (e: Envelope<ViewChange>) =>
    (e === hiding ? -1e9 : 0) + (usedKeys.has(`${e.from}|${e.sig}`) ? 1e6 : 0) + e.msg.prepared.length;
  candidates.sort((a, b) => rank(a) - rank(b) || a.from - b.from);
  const pick = new Map<number, Envelope<ViewChange>>();
  for (const e of candidates) if (!pick.has(e.from)) pick.set(e.from, e);
  if (pick.size < quorum(ctx.f)) return null;
  const viewChanges = [...pick.values()].slice(0, quorum(ctx.f)).sort((a, b) => a.from - b.from);
  if (canonicalJson(viewChanges) === canonicalJson(used)) return null;
  return { type: "new-view", view, viewChanges };
}

/** True for a PREPARE or COMMIT, in a view this node does not lead, that it keeps to itself. */
function sparseVote(out: Outgoing, ctx: ByzantineContext): boolean {
  const m = out.msg;
  if (!m || (m.type !== "prepare" && m.type !== "commit") || primaryOf(m.view, ctx.n) === ctx.me)
    return false;
  return ctx.rng.chance(m.type === "commit" ? 0.8 : 0.5);
}

/** State chunks it serves get tampered contents, most of the time (its checkpoint's proof is real). */
function tamperOutgoing(o: Sent, ctx: ByzantineContext): Sent {
  const msg = o.out.msg;
  if (!msg || msg.type !== "state-chunk" || ctx.rng.chance(0.2)) return o;
  const t = tamperChunk(msg as StateChunkMsg, ctx.mem, ctx.rng);
  if (!t) return o;
  ctx.count("tampered_chunk");
  return { out: { to: o.out.to, msg: t }, tampered: true };
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
      out.push({ to, raw: { junk: [1, 2, 3] } });
      break;
    default:
      if (base) out.push({ to, raw: { ...base, sig: base.sig.split("").reverse().join("") } });
  }
  return out;
}
