/**
 * Certification progress from what the nodes and replicas say (pure; bench/cluster/monitor.ts
 * samples them): a merged timeline of acknowledgements and certified op counts, the longest time
 * with ops pending and no new certificate, and how many views the cluster went through.
 */
import type { Ack } from "./cert-poll.js";

/** At time `t` (ms) the certified op count observed was `count` (from any source). */
export interface CountAt {
  t: number;
  count: number;
}

/** At time `t`: `acked` ops acknowledged in total, `certified` certified (both cumulative, as known then). */
export interface ProgressPoint {
  t: number;
  acked: number;
  certified: number;
}

/**
 * One timeline from the acknowledgements and every source of certified counts (polls of the
 * certificate, the replicas' stats), in time order. A count never goes back: a source that answers
 * late with an older count does not undo what another showed.
 */
export function mergeProgress(
  acks: readonly Ack[],
  ...sources: readonly (readonly CountAt[])[]
): ProgressPoint[] {
  const events: { t: number; ack?: number; count?: number }[] = [
    ...acks.map((a) => ({ t: a.t, ack: a.cum })),
    ...sources.flatMap((s) => s.map((c) => ({ t: c.t, count: c.count }))),
  ];
  // acks first at equal times: an op acknowledged and certified at once was pending for 0 ms
  events.sort((a, b) => a.t - b.t || (a.ack === undefined ? 1 : 0) - (b.ack === undefined ? 1 : 0));
  const out: ProgressPoint[] = [];
  let acked = 0;
  let certified = 0;
  for (const e of events) {
    if (e.ack !== undefined) acked = Math.max(acked, e.ack);
    if (e.count !== undefined) certified = Math.max(certified, e.count);
    out.push({ t: e.t, acked, certified });
  }
  return out;
}

export interface Gap {
  /** The longest time (ms) with ops pending (acknowledged, not certified) and no new certificate. */
  longestMs: number;
  /** When it began (ms, the timeline's clock); null when there was none. */
  from: number | null;
  /** Whether it was still going at the end of the timeline (ops left uncertified). */
  open: boolean;
}

/**
 * The longest gap: from the later of the last certified count's increase and the moment ops became
 * pending, to the next increase (or the end of the timeline, `endT` if given, when none came).
 */
export function longestGap(points: readonly ProgressPoint[], endT?: number): Gap {
  let best: Gap = { longestMs: 0, from: null, open: false };
  let since: number | null = null;
  let certified = 0;
  for (const p of points) {
    if (p.certified > certified) {
      if (since !== null && p.t - since > best.longestMs)
        best = { longestMs: p.t - since, from: since, open: false };
      certified = p.certified;
      since = null;
    }
    if (since === null && p.acked > p.certified) since = p.t;
  }
  const end = endT ?? points[points.length - 1]?.t;
  if (since !== null && end !== undefined && end - since >= best.longestMs)
    best = { longestMs: end - since, from: since, open: true };
  return best;
}

/** Each node's view per sample (null: it did not answer that time). */
export type ViewSample = readonly (number | null)[];

/**
 * How many views the cluster moved through: the highest view any node reported, minus the view
 * most nodes were in at the first sample any answered (0: no view change seen). Null: none answered.
 */
export function viewChanges(samples: readonly ViewSample[]): number | null {
  let first: number | null = null;
  let highest: number | null = null;
  for (const s of samples) {
    const views = s.filter((v): v is number => v !== null);
    if (views.length === 0) continue;
    if (first === null) first = modeLow(views);
    highest = Math.max(highest ?? 0, ...views);
  }
  return first === null || highest === null ? null : highest - first;
}

/** The most common value (ties: the lowest). */
function modeLow(xs: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  let best = xs[0]!;
  for (const [v, c] of counts) {
    const bc = counts.get(best)!;
    if (c > bc || (c === bc && v < best)) best = v;
  }
  return best;
}
