/**
 * Validly signed hostile bulk messages: a Byzantine node builds VIEW-CHANGEs and NEW-VIEWs with
 * hostile contents and signs them with its own real key (so they pass the boundary and reach the
 * core), and well-formed STATEs with hostile contents. Not junk that fails parsing (forgeries do
 * that): every one of these must be judged and dropped, or safely used, by the core itself.
 */
import { primaryOf, quorum } from "../../shared/pbft/config.js";
import type { Outgoing } from "../../shared/pbft/effects.js";
import type {
  Envelope,
  Message,
  NewView,
  PreparedCert,
  StateMsg,
  ViewChange,
} from "../../shared/pbft/messages.js";
import { alternativeNewView, type ByzantineContext } from "./byzantine.js";

export const HOSTILE_KINDS = [
  "vc-copied",
  "vc-stale-checkpoint",
  "vc-bad-digest",
  "vc-duplicate-seq",
  "vc-huge-view",
  "vc-prepared-not-older",
  "vc-bad-checkpoint",
  "nv-not-primary",
  "nv-mixed-views",
  "nv-duplicate-sender",
  "nv-own-quorum",
  "state-seq-mismatch",
  "state-root-flipped",
  "state-genesis",
  "chunk-unsolicited",
  "chunk-huge-records",
  "fetch-flood",
] as const;
export type HostileKind = (typeof HOSTILE_KINDS)[number];

/** One hostile message (signed as this node where the type is signed) and where it goes. */
export async function hostileBulk(ctx: ByzantineContext): Promise<{ to: number[]; env: Envelope } | null> {
  const kind = ctx.rng.pick(HOSTILE_KINDS);
  const msg = await build(kind, ctx);
  if (!msg) return null;
  const others = Array.from({ length: ctx.n }, (_, i) => i).filter((i) => i !== ctx.me);
  const to = ctx.rng.chance(0.5) ? others : [ctx.rng.pick(others)];
  return { to, env: await ctx.seal({ to, msg } as Outgoing) };
}

async function build(kind: HostileKind, ctx: ByzantineContext): Promise<Message | null> {
  const s = ctx.replica.state;
  const rng = ctx.rng;
  const seenVcs = ctx.mem
    .viewChangeViews()
    .flatMap((v) => ctx.mem.viewChangesFor(v))
    .filter((e) => e.from !== ctx.me);
  const someVc = seenVcs.length ? rng.pick(seenVcs) : null;
  const prepared = seenVcs.flatMap((e) => e.msg.prepared);
  const someCert: PreparedCert | null = prepared.length ? rng.pick(prepared) : null;
  const nextView = s.view + 1;
  const vc = (m: Omit<ViewChange, "type">): ViewChange => ({ type: "view-change", ...m });
  switch (kind) {
    case "vc-copied":
      // Another node's checkpoint and prepared certificates, claimed as its own, for the next view.
      return someVc
        ? vc({ view: nextView, checkpoint: someVc.msg.checkpoint, prepared: someVc.msg.prepared })
        : null;
    case "vc-stale-checkpoint":
      // The genesis checkpoint and nothing prepared: valid, and as unhelpful as it can be.
      return vc({ view: nextView, checkpoint: { seq: 0, digest: s.genesisDigest, proof: [] }, prepared: [] });
    case "vc-bad-digest":
      if (!someVc || !someCert) return null;
      return vc({
        view: nextView,
        checkpoint: someVc.msg.checkpoint,
        prepared: [{ ...someCert, proposal: { ...someCert.proposal, time: someCert.proposal.time + 1 } }],
      });
    case "vc-duplicate-seq":
      if (!someVc || !someVc.msg.prepared.length) return null;
      return vc({
        view: nextView,
        checkpoint: someVc.msg.checkpoint,
        prepared: [someVc.msg.prepared[0]!, someVc.msg.prepared[0]!],
      });
    case "vc-huge-view":
      return vc({ view: 2 ** 50 + rng.int(0, 9), checkpoint: s.stable, prepared: [] });
    case "vc-prepared-not-older":
      if (!someCert || !someVc) return null;
      return vc({ view: someCert.view, checkpoint: someVc.msg.checkpoint, prepared: [someCert] });
    case "vc-bad-checkpoint": {
      const cp = s.stable;
      if (!cp.proof.length) return vc({ view: nextView, checkpoint: { ...cp, seq: 1 }, prepared: [] });
      const one = cp.proof[0]!;
      return vc({ view: nextView, checkpoint: { ...cp, proof: cp.proof.map(() => one) }, prepared: [] });
    }
    case "nv-not-primary": {
      const vcs = ctx.mem.viewChangesFor(s.view + rng.int(0, 2));
      const view = vcs[0]?.msg.view;
      if (view === undefined || primaryOf(view, ctx.n) === ctx.me) return null;
      return newView(view, pickQuorum(vcs, ctx.f));
    }
    case "nv-mixed-views": {
      if (seenVcs.length < quorum(ctx.f)) return null;
      const mixed = pickQuorum(rng.shuffle([...seenVcs]), ctx.f);
      return mixed.length ? newView(mixed[0]!.msg.view, mixed) : null;
    }
    case "nv-duplicate-sender":
      if (!someVc) return null;
      return newView(
        someVc.msg.view,
        Array.from({ length: quorum(ctx.f) }, () => someVc),
      );
    case "nv-own-quorum": {
      // A real NEW-VIEW for a view this node leads, from whatever quorum it can gather: unsolicited,
      // possibly different from the one its core sends (or would send) for that view.
      for (let v = s.view; v <= s.view + ctx.n; v++) {
        if (primaryOf(v, ctx.n) !== ctx.me) continue;
        const nv = await alternativeNewView(v, [], ctx);
        if (nv) return nv;
      }
      return null;
    }
    case "state-seq-mismatch":
      return state({ ...s.stableHeader, seq: s.stableHeader.seq + s.cfg.checkpointIntervalSeqs });
    case "state-root-flipped": {
      const r = s.stableHeader.stateRoot;
      return state({ ...s.stableHeader, stateRoot: (r[0] === "0" ? "1" : "0") + r.slice(1) });
    }
    case "state-genesis":
      return {
        type: "state",
        checkpoint: { seq: 0, digest: s.genesisDigest, proof: [] },
        header: { ...s.stableHeader, seq: 0 },
      };
    case "chunk-unsolicited": {
      // A well-formed chunk for whatever a peer may be fetching: a random path, forged records.
      const path = Array.from({ length: rng.int(0, 6) }, () => (rng.chance(0.5) ? "1" : "0")).join("");
      const seq = s.stable.seq + rng.int(0, 1) * s.cfg.checkpointIntervalSeqs;
      return rng.chance(0.5)
        ? { type: "state-chunk", seq, path, chunk: { split: [s.stableHeader.stateRoot, s.genesisDigest] } }
        : { type: "state-chunk", seq, path, chunk: { records: [["~forged", "counter", rng.int(0, 9)]] } };
    }
    case "chunk-huge-records":
      return {
        type: "state-chunk",
        seq: s.stable.seq,
        path: "",
        chunk: {
          records: Array.from({ length: s.cfg.stateChunkRecordsMax }, (_, i) => [`~k${i}`, "counter", i]),
        },
      };
    case "fetch-flood":
      // Signed by this node: a peer serves it at most once per tick, and only for its stable seq.
      return {
        type: "state-fetch",
        seq: s.stable.seq,
        paths: Array.from({ length: s.cfg.stateFetchPathsMax }, (_, i) => [
          i.toString(2),
          s.cfg.stateChunkRecordsMax,
        ]),
      };
  }
  function state(h: StateMsg["header"]): StateMsg {
    return { type: "state", checkpoint: s.stable, header: h };
  }
}

function newView(view: number, viewChanges: Envelope<ViewChange>[]): NewView | null {
  return viewChanges.length ? { type: "new-view", view, viewChanges } : null;
}

/** The first quorum of distinct senders (or all there are). */
function pickQuorum(vcs: readonly Envelope<ViewChange>[], f: number): Envelope<ViewChange>[] {
  const by = new Map<number, Envelope<ViewChange>>();
  for (const e of vcs) if (!by.has(e.from)) by.set(e.from, e);
  return [...by.values()].slice(0, quorum(f));
}
