/**
 * The fault run's figures, pure: each op's certification lag from the replicas' certificate
 * timelines, a phase's summary and verdict, and the Markdown table beside the `none` baseline.
 */
import { percentile } from "../ec/stats.js";

/** One observation of a replica's newest certificate: at `t` (ms, this process's clock) it held `seq`. */
export interface HeadPoll {
  t: number;
  seq: number;
}

/**
 * When a replica first showed a certificate at or past `seq`, from its polls (in time order): the
 * op certified in batch `seq` is applied there from that poll on (replicas apply seqs in order).
 * null: no poll showed it.
 */
export function firstSeenAt(polls: readonly HeadPoll[], seq: number): number | null {
  for (const p of polls) if (p.seq >= seq) return p.t;
  return null;
}

/**
 * One op's lag: from its acknowledgement to the moment the last of `replicas` showed its batch
 * (`certifiedSeq` per replica; a replica missing or never seen: null, the op is not certified
 * everywhere). A poll before the ack (the batch was applied before the reply reached us) counts as 0.
 */
export function opLag(
  ackT: number,
  certifiedSeq: Readonly<Record<string, number | null>>,
  polls: Readonly<Record<string, readonly HeadPoll[]>>,
  replicas: readonly string[],
): number | null {
  let last = ackT;
  for (const r of replicas) {
    const seq = certifiedSeq[r];
    if (seq === null || seq === undefined) return null;
    const t = firstSeenAt(polls[r] ?? [], seq);
    if (t === null) return null;
    last = Math.max(last, t);
  }
  return last - ackT;
}

export interface LagSummary {
  n: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
}

/** The figures of a phase that could not run (every count empty): reported, and failed. */
export function brokenPhase(phase: string, fault: string, error: string, phaseMs: number): PhaseFigures {
  const none = lagSummary([]);
  return {
    phase,
    fault,
    opsSent: 0,
    opsAcked: 0,
    opsCertified: 0,
    lag: none,
    homeLag: none,
    replicas: [],
    viewBefore: null,
    viewAfter: null,
    viewSettled: null,
    settled: false,
    settleMs: 0,
    refused: {},
    dropped: {},
    errors: {},
    phaseMs,
    uncertified: [],
    error,
  };
}

export function lagSummary(lags: readonly number[]): LagSummary {
  if (lags.length === 0) return { n: 0, p50: null, p99: null, max: null };
  const s = Float64Array.from(lags).sort();
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1]! };
}

/** Where one replica stood at the end of a phase (GET /v1/replicas); null: it did not answer. */
export interface ReplicaEnd {
  name: string;
  certification: string | null;
  stale: boolean | null;
  seq: number | null;
}

export interface PhaseFigures {
  phase: string;
  /** e.g. "pbft-1 mangledPosts"; "—" for none. */
  fault: string;
  opsSent: number;
  opsAcked: number;
  /** Acked ops certified at every replica within the phase. */
  opsCertified: number;
  lag: LagSummary;
  /** The same lag to the op's own replica only (the one it was written to). */
  homeLag: LagSummary;
  replicas: ReplicaEnd[];
  viewBefore: number | null;
  viewAfter: number | null;
  /** After the fault was switched off and the system settled (or the settle budget ran out). */
  viewSettled: number | null;
  settled: boolean;
  settleMs: number;
  /** Replies the SDK's verifiers refused, by reason (reply_replayed: a replayed read caught). */
  refused: Record<string, number>;
  /** Batches the replicas dropped during the phase, by reason (their `certification.dropped`). */
  dropped: Record<string, number>;
  /** Requests that failed (an error status, a deadline, a connection error), by what. */
  errors: Record<string, number>;
  phaseMs: number;
  /** The first acked ops not certified everywhere: what each replica last said of them (JSON only). */
  uncertified: { id: string; home: string; ackedAtMs: number; said: Record<string, string> }[];
  /** The phase could not run to its end (a fault not switched, the server gone): why. */
  error?: string;
}

export interface Verdict {
  ok: boolean;
  /** Why not (empty when ok). */
  failures: string[];
}

/** A phase fails when an acked op is not certified everywhere, an op is not acked, or a replica is not ok and fresh at the end. */
export function verdictOf(f: PhaseFigures): Verdict {
  const failures: string[] = [];
  if (f.error !== undefined) failures.push(`error: ${f.error}`);
  if (f.opsAcked < f.opsSent) failures.push(`${f.opsSent - f.opsAcked} ops not acknowledged`);
  if (f.opsCertified < f.opsAcked)
    failures.push(`${f.opsAcked - f.opsCertified} acknowledged ops not certified at every replica`);
  for (const r of f.replicas) {
    if (r.certification !== "ok") failures.push(`${r.name}: certification ${r.certification ?? "no answer"}`);
    else if (r.stale !== false) failures.push(`${r.name}: stale`);
  }
  if (!f.settled) failures.push("did not settle after the fault was switched off");
  return { ok: failures.length === 0, failures };
}

const ms = (x: number | null): string => (x === null ? "—" : Math.round(x).toLocaleString("en-US"));
const ratio = (x: number | null, base: number | null): string =>
  x === null || base === null || base <= 0 ? "" : ` (${(x / base).toFixed(1)}×)`;
const counts = (c: Record<string, number>): string => {
  const e = Object.entries(c).filter(([, n]) => n > 0);
  return e.length === 0 ? "0" : e.map(([k, n]) => `${k} ${n}`).join(", ");
};
const view = (f: PhaseFigures): string => {
  const change = f.viewBefore === null || f.viewAfter === null ? "?" : String(f.viewAfter - f.viewBefore);
  return `${change} (${f.viewBefore ?? "?"}→${f.viewAfter ?? "?"}→${f.viewSettled ?? "?"})`;
};

/**
 * The table: one row per phase, lag figures with their ratio to the `none` phase of the same run
 * (the first phase named "none", if any).
 */
export function renderTable(phases: readonly PhaseFigures[]): string {
  const base = phases.find((p) => p.phase === "none");
  const rows = phases.map((f) => {
    const v = verdictOf(f);
    const pct = f.opsAcked === 0 ? 0 : (100 * f.opsCertified) / f.opsAcked;
    const ok = f.replicas.filter((r) => r.certification === "ok" && r.stale === false).length;
    const b = f === base ? undefined : base;
    return [
      f.phase,
      f.fault,
      `${f.opsCertified}/${f.opsAcked} (${pct.toFixed(1)}%)`,
      `${ms(f.lag.p50)}${ratio(f.lag.p50, b?.lag.p50 ?? null)}`,
      `${ms(f.lag.p99)}${ratio(f.lag.p99, b?.lag.p99 ?? null)}`,
      `${ms(f.lag.max)}${ratio(f.lag.max, b?.lag.max ?? null)}`,
      ms(f.homeLag.p50),
      `${ok}/${f.replicas.length}`,
      view(f),
      counts(f.dropped),
      counts(f.refused),
      counts(f.errors),
      `${(f.settleMs / 1000).toFixed(1)} s${f.settled ? "" : " (not settled)"}`,
      v.ok ? "ok" : `**FAILED**: ${v.failures.join("; ")}`,
    ];
  });
  const head = [
    "phase",
    "fault",
    "certified everywhere",
    "lag p50 ms",
    "lag p99 ms",
    "lag max ms",
    "home p50 ms",
    "replicas ok, fresh",
    "view changes (before→after→settled)",
    "batches dropped by replicas",
    "replies refused by the client",
    "request errors",
    "settle",
    "verdict",
  ];
  const align = head.map((_, i) => (i >= 2 && i <= 7 ? "---:" : "---"));
  return [head, align, ...rows].map((r) => `| ${r.join(" | ")} |`).join("\n");
}
