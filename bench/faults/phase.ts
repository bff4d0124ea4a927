/**
 * One phase of the fault run: switch a fault on, write a bounded number of signed ops round-robin
 * to the replicas at a modest rate, follow each op until every replica shows it certified (or the
 * phase's budget ends), read every key twice at every replica (a replayed read is caught by its
 * nonce), take the replicas' standing and the view, switch the fault off, and let the system settle.
 */
import { performance } from "node:perf_hooks";
import { verifyOpReply, verifyOpStatusReply, verifyReadReply } from "../../client/verify.js";
import { generateKeyPair, type KeyPair } from "../../shared/crypto/keys.js";
import { opIdOf, signOp } from "../../shared/ops.js";
import { lagSummary, opLag, type PhaseFigures, type ReplicaEnd } from "./figures.js";
import type { LocalApi } from "./http.js";
import {
  clusterNow,
  droppedDuring,
  refuse,
  replicaStanding,
  setFaults,
  type HeadPoller,
  type Pinned,
  type Refusals,
} from "./observe.js";

export interface PhaseSpec {
  name: string;
  /** A replica name, a node id, "primary" (the view's primary when the phase starts), or null (no fault). */
  target: string | null;
  mode: string | null;
}

export interface Workload {
  ops: number;
  keys: number;
  clients: number;
  /** Ops sent per second (open loop: each op leaves at its time, whatever the replies do). */
  rate: number;
  /** Writing and following certification, at most (ms). */
  budgetMs: number;
  /** Settling after the fault is off, at most (ms). */
  settleMs: number;
}

export interface RunContext {
  api: LocalApi;
  pinned: Pinned;
  poller: HeadPoller;
  refused: Refusals;
  token: string;
  log: (s: string) => void;
  /** Names this run's keys apart from other runs'. */
  tag: string;
}

/** Acked ops not certified everywhere listed in the figures (for diagnosis), at most. */
const UNCERTIFIED_LISTED = 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface SentOp {
  id: string;
  key: string;
  home: string;
  ackT: number | null;
  /** Per replica, the seq of the batch that certified it there (null: not seen certified yet). */
  seq: Record<string, number | null>;
  /** Per replica, what it last said of the op ("404": it has no such op, "pending", "certified", …). */
  said: Record<string, string>;
}

/** `f` over `items`, at most `width` at a time. */
async function pool<T>(items: readonly T[], width: number, f: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) await f(items[next++]!);
    }),
  );
}

async function writeOps(ctx: RunContext, w: Workload, phase: string): Promise<SentOp[]> {
  const { api, pinned } = ctx;
  const clients: { kp: KeyPair; seq: number }[] = await Promise.all(
    Array.from({ length: w.clients }, async () => ({ kp: await generateKeyPair(), seq: 0 })),
  );
  const start = performance.now();
  const ops: SentOp[] = [];
  const inflight: Promise<void>[] = [];
  for (let i = 0; i < w.ops; i++) {
    const wait = start + (i * 1000) / w.rate - performance.now();
    if (wait > 0) await sleep(wait);
    const c = clients[i % clients.length]!;
    const home = pinned.replicas[i % pinned.replicas.length]!;
    const key = `faults-${ctx.tag}/${phase}/k${i % w.keys}`;
    const op = await signOp(c.kp.secret, {
      client: c.kp.publicKey,
      seq: ++c.seq,
      key,
      type: "counter",
      op: "add",
      args: { n: 1 },
      ts: Date.now(),
    });
    const sent: SentOp = { id: opIdOf(op), key, home, ackT: null, seq: {}, said: {} };
    ops.push(sent);
    inflight.push(
      (async () => {
        const mark = pinned.guard.mark();
        const res = await api.call("POST", `/v1/ops?replica=${home}`, "POST /v1/ops", op);
        const t = performance.now();
        if (res.status !== 200) return;
        try {
          await verifyOpReply(
            res.body,
            { replica: home, opId: sent.id, key, type: "counter", nonce: res.nonce, sent: mark },
            pinned.keys,
            pinned.guard,
          );
          sent.ackT = t;
        } catch (e) {
          refuse(ctx.refused, e);
        }
      })(),
    );
  }
  await Promise.all(inflight);
  return ops;
}

/** Ask each replica about each acked op not yet seen certified there, until all are or `deadline`. */
async function followCertification(ctx: RunContext, ops: SentOp[], deadline: number): Promise<void> {
  const { api, pinned } = ctx;
  const acked = ops.filter((o) => o.ackT !== null);
  for (;;) {
    const open = acked.flatMap((o) =>
      pinned.replicas.filter((r) => o.seq[r] === undefined || o.seq[r] === null).map((r) => ({ o, r })),
    );
    if (open.length === 0 || performance.now() >= deadline) return;
    await pool(open, 6, async ({ o, r }) => {
      if (performance.now() >= deadline) return;
      const mark = pinned.guard.mark();
      const res = await api.call(
        "GET",
        `/v1/ops/${o.id}?replica=${r}`,
        "GET /v1/ops/:id",
        undefined,
        {},
        [200, 404],
      );
      o.said[r] = String(res.status);
      if (res.status !== 200) return; // 404 unknown_op_id: not arrived there yet
      try {
        const st = await verifyOpStatusReply(
          res.body,
          { replica: r, opId: o.id, nonce: res.nonce, sent: mark },
          pinned.keys,
          pinned.guard,
        );
        o.seq[r] = st.certified?.seq ?? null;
        o.said[r] = st.certified ? "certified" : "pending";
      } catch (e) {
        o.said[r] = "refused";
        refuse(ctx.refused, e);
      }
    });
    await sleep(500);
  }
}

/** Read every key twice at every replica: a replica replaying an old signed read answers the second with another request's nonce. */
async function readKeys(ctx: RunContext, keys: readonly string[]): Promise<void> {
  const { api, pinned } = ctx;
  const reads = pinned.replicas.flatMap((r) => keys.map((key) => ({ r, key })));
  for (let round = 0; round < 2; round++)
    await pool(reads, 6, async ({ r, key }) => {
      const mark = pinned.guard.mark();
      const res = await api.call("GET", `/v1/kv/${encodeURIComponent(key)}?replica=${r}`, "GET /v1/kv");
      if (res.status !== 200) return;
      try {
        await verifyReadReply(
          res.body,
          { replica: r, key, nonce: res.nonce, sent: mark },
          pinned.keys,
          pinned.guard,
        );
      } catch (e) {
        refuse(ctx.refused, e);
      }
    });
}

/** Wait until every replica is ok and fresh and every node normal in one view, at most `budgetMs`. */
async function settle(
  ctx: RunContext,
  budgetMs: number,
): Promise<{ settled: boolean; ms: number; view: number | null }> {
  const t0 = performance.now();
  let view: number | null = null;
  for (;;) {
    const [standing, cluster] = await Promise.all([
      replicaStanding(ctx.api, ctx.pinned.replicas),
      clusterNow(ctx.api),
    ]);
    view = cluster.view;
    const fresh = standing?.ends.every((e) => e.certification === "ok" && e.stale === false) ?? false;
    if (fresh && cluster.allNormal) return { settled: true, ms: performance.now() - t0, view };
    if (performance.now() - t0 >= budgetMs) return { settled: false, ms: performance.now() - t0, view };
    await sleep(500);
  }
}

export async function runPhase(ctx: RunContext, spec: PhaseSpec, w: Workload): Promise<PhaseFigures> {
  const { api, pinned, log } = ctx;
  const t0 = performance.now();
  const errorsBefore = { ...api.errors };
  const refusedBefore = { ...ctx.refused };
  const before = await clusterNow(api);
  const standingBefore = await replicaStanding(api, pinned.replicas);
  const target = spec.target === "primary" ? before.primary : spec.target;
  if (spec.target !== null && target === null) throw new Error(`${spec.name}: no primary to target`);
  const fault = spec.mode === null ? "—" : `${target} ${spec.mode}`;
  log(`## ${spec.name}: ${fault} (view ${before.view ?? "?"}, primary ${before.primary ?? "?"})`);
  if (target !== null && spec.mode !== null) await setFaults(api, ctx.token, target, { [spec.mode]: true });
  let ops: SentOp[] = [];
  let ends: ReplicaEnd[] = [];
  let dropped: Record<string, number> = {};
  let viewAfter: number | null = null;
  try {
    ops = await writeOps(ctx, w, spec.name);
    log(`   ${ops.filter((o) => o.ackT !== null).length}/${ops.length} acked`);
    await followCertification(ctx, ops, t0 + w.budgetMs);
    await readKeys(ctx, [...new Set(ops.map((o) => o.key))]);
    const standing = await replicaStanding(api, pinned.replicas);
    ends =
      standing?.ends ??
      pinned.replicas.map((name) => ({ name, certification: null, stale: null, seq: null }));
    if (standing && standingBefore) dropped = droppedDuring(standingBefore.dropped, standing.dropped);
    viewAfter = (await clusterNow(api)).view;
  } finally {
    if (target !== null && spec.mode !== null) await setFaults(api, ctx.token, target, {});
  }
  const phaseMs = performance.now() - t0;
  const s = await settle(ctx, w.settleMs);
  // lags after settling: the poller has by now seen every head the status replies named
  const acked = ops.filter((o) => o.ackT !== null);
  const lags: number[] = [];
  const homeLags: number[] = [];
  const uncertified: PhaseFigures["uncertified"] = [];
  for (const o of acked) {
    const all = opLag(o.ackT!, o.seq, ctx.poller.polls, pinned.replicas);
    if (all !== null) lags.push(all);
    else if (uncertified.length < UNCERTIFIED_LISTED)
      uncertified.push({ id: o.id, home: o.home, ackedAtMs: Math.round(o.ackT! - t0), said: o.said });
    const home = opLag(o.ackT!, o.seq, ctx.poller.polls, [o.home]);
    if (home !== null) homeLags.push(home);
  }
  const refused: Record<string, number> = {};
  for (const [k, n] of Object.entries(ctx.refused))
    if (n > (refusedBefore[k] ?? 0)) refused[k] = n - (refusedBefore[k] ?? 0);
  return {
    phase: spec.name,
    fault,
    opsSent: ops.length,
    opsAcked: acked.length,
    opsCertified: lags.length,
    lag: lagSummary(lags),
    homeLag: lagSummary(homeLags),
    replicas: ends,
    viewBefore: before.view,
    viewAfter,
    viewSettled: s.view,
    settled: s.settled,
    settleMs: s.ms,
    refused,
    dropped,
    errors: api.since(errorsBefore),
    phaseMs,
    uncertified,
  };
}
