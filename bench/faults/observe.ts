/**
 * What the fault run watches, every reply checked with the SDK's own verifiers (client/verify.ts)
 * against the replica keys and the cluster pinned at the start: each replica's newest certificate
 * over time, the replicas' standing (`GET /v1/replicas`), the PBFT view (`GET /v1/cluster/status`).
 */
import { performance } from "node:perf_hooks";
import { CertificateGuard } from "../../client/certificates.js";
import { checkCluster } from "../../client/cluster.js";
import { ReplyVerificationError } from "../../client/errors.js";
import { verifyCertificateReply, type PinnedKeys } from "../../client/verify.js";
import type { HeadPoll, ReplicaEnd } from "./figures.js";
import type { LocalApi } from "./http.js";

export const FAULT_TOKEN_HEADER = "x-aspec-fault-token";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Pinned replica keys and cluster, and one certificate guard (no age bound: staleness is measured, not refused). */
export interface Pinned {
  keys: PinnedKeys;
  guard: CertificateGuard;
  replicas: string[];
}

export async function pin(api: LocalApi): Promise<Pinned> {
  const r = await api.call("GET", "/v1/replicas", "GET /v1/replicas");
  const c = await api.call("GET", "/v1/cluster", "GET /v1/cluster");
  if (r.status !== 200 || c.status !== 200) throw new Error("could not read /v1/replicas and /v1/cluster");
  const list = (r.body as { replicas: { name: string; publicKey: string }[] }).replicas;
  const cluster = checkCluster(c.body);
  return {
    keys: new Map(list.map((x) => [x.name, x.publicKey])),
    guard: new CertificateGuard(cluster, { maxAgeMs: Infinity, now: () => Date.now() }),
    replicas: list.map((x) => x.name),
  };
}

/** Counts of replies the verifiers refused, by reason. */
export type Refusals = Record<string, number>;

export function refuse(refused: Refusals, e: unknown): void {
  if (!(e instanceof ReplyVerificationError)) throw e;
  refused[e.reason] = (refused[e.reason] ?? 0) + 1;
}

/** Polls every replica's `GET /v1/certificates/latest` every `everyMs` until stopped. */
export class HeadPoller {
  readonly polls: Record<string, HeadPoll[]> = {};
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly api: LocalApi,
    private readonly pinned: Pinned,
    private readonly refused: Refusals,
    private readonly everyMs = 100,
  ) {
    for (const r of pinned.replicas) this.polls[r] = [];
  }

  start(): void {
    this.running = true;
    this.loops = this.pinned.replicas.map(async (replica) => {
      while (this.running) {
        const sent = this.pinned.guard.mark();
        const res = await this.api.call(
          "GET",
          `/v1/certificates/latest?replica=${replica}`,
          "GET /v1/certificates/latest",
        );
        const t = performance.now();
        if (res.status === 200)
          try {
            const reply = await verifyCertificateReply(
              res.body,
              replica,
              this.pinned.keys,
              this.pinned.guard,
              true,
              { nonce: res.nonce, sent },
            );
            this.polls[replica]!.push({ t, seq: reply.certificate?.body.seq ?? 0 });
          } catch (e) {
            refuse(this.refused, e);
          }
        await sleep(this.everyMs);
      }
    });
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

interface ReplicasReply {
  certification: Record<
    string,
    { certification: string; seq: number; dropped: Record<string, number> } | null
  >;
  freshness: Record<string, { stale: boolean; seq: number } | null>;
}

/** Each replica's certification and freshness now, and its dropped-batch counters. */
export async function replicaStanding(
  api: LocalApi,
  replicas: readonly string[],
): Promise<{ ends: ReplicaEnd[]; dropped: Record<string, Record<string, number>> } | null> {
  const res = await api.call("GET", "/v1/replicas", "GET /v1/replicas");
  if (res.status !== 200) return null;
  const b = res.body as ReplicasReply;
  const ends = replicas.map((name) => ({
    name,
    certification: b.certification?.[name]?.certification ?? null,
    stale: b.freshness?.[name]?.stale ?? null,
    seq: b.certification?.[name]?.seq ?? null,
  }));
  const dropped = Object.fromEntries(replicas.map((n) => [n, { ...(b.certification?.[n]?.dropped ?? {}) }]));
  return { ends, dropped };
}

/** Sum over replicas of `after - before` per counter (an instance restart resets them: never below 0). */
export function droppedDuring(
  before: Record<string, Record<string, number>>,
  after: Record<string, Record<string, number>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [replica, counters] of Object.entries(after))
    for (const [k, n] of Object.entries(counters)) {
      const d = n - (before[replica]?.[k] ?? 0);
      if (d > 0) out[k] = (out[k] ?? 0) + d;
    }
  return out;
}

export interface ClusterNow {
  view: number | null;
  primary: string | null;
  /** Every node answered, in normal operation, in the majority view. */
  allNormal: boolean;
}

export async function clusterNow(api: LocalApi): Promise<ClusterNow> {
  const res = await api.call("GET", "/v1/cluster/status", "GET /v1/cluster/status");
  if (res.status !== 200) return { view: null, primary: null, allNormal: false };
  const b = res.body as {
    view: number | null;
    primary: string | null;
    nodes: Record<string, { view: number; normal: boolean } | null>;
  };
  const nodes = Object.values(b.nodes ?? {});
  return {
    view: b.view,
    primary: b.primary,
    allNormal: nodes.length > 0 && nodes.every((n) => n !== null && n.normal && n.view === b.view),
  };
}

/** Switch `target`'s faults (`{}`: all off); throws unless the server took them. */
export async function setFaults(
  api: LocalApi,
  token: string,
  target: string,
  faults: Record<string, boolean>,
): Promise<void> {
  const res = await api.call(
    "POST",
    "/v1/dev/faults",
    "POST /v1/dev/faults",
    { target, faults },
    {
      [FAULT_TOKEN_HEADER]: token,
    },
  );
  if (res.status !== 200)
    throw new Error(`POST /v1/dev/faults ${target}: ${res.status} ${JSON.stringify(res.body)}`);
}
