/**
 * The simulator's command line as a function (cli.ts calls it; tests call it with the arguments a
 * failure printed, to check that they reproduce it). Returns the exit code; writes through `out`.
 */
import { MODES, parseModes, type Mode } from "./modes.js";
import { formatFailure, runSeed, type RunOptions, type SeedResult } from "./run.js";

export const USAGE = `usage: npm run sim -- [options]
  --seed N             run one seed (replays a failure exactly, with the options it printed)
  --from N --seeds M   run seeds N .. N+M-1 (default --from 1 --seeds 100)
  --modes a,b,c        seeds draw their faults from these modes only (default: all)
  --quick              the shorter plans the vitest seed sweep uses
  --trace              print every event (with --seed)
  --plant-at-seq K     test-only: plant a checker violation once seq K is certified
  --help               this text
modes: ${MODES.join(", ")}`;

interface Args {
  seed: number | null;
  from: number;
  seeds: number;
  modes: Mode[] | null;
  quick: boolean;
  trace: boolean;
  plantAtSeq: number | null;
  help: boolean;
}

const FLAGS = new Set(["--quick", "--trace", "--help", "-h"]);
const VALUED = new Set(["--seed", "--from", "--seeds", "--modes", "--plant-at-seq"]);

export function parseArgs(argv: readonly string[]): Args {
  const a: Args = {
    seed: null,
    from: 1,
    seeds: 100,
    modes: null,
    quick: false,
    trace: false,
    plantAtSeq: null,
    help: false,
  };
  const int = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n) || n < 0) throw new Error(`${flag} needs a whole number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (FLAGS.has(flag)) {
      if (flag === "--quick") a.quick = true;
      else if (flag === "--trace") a.trace = true;
      else a.help = true;
      continue;
    }
    if (!VALUED.has(flag)) throw new Error(`unknown option ${flag}`);
    const v = argv[++i];
    if (flag === "--seed") a.seed = int(flag, v);
    else if (flag === "--from") a.from = int(flag, v);
    else if (flag === "--seeds") a.seeds = int(flag, v);
    else if (flag === "--plant-at-seq") a.plantAtSeq = int(flag, v);
    else a.modes = parseModes(v ?? "");
  }
  return a;
}

export async function simMain(
  argv: readonly string[],
  out: (line: string) => void = console.log,
): Promise<number> {
  let a: Args;
  try {
    a = parseArgs(argv);
  } catch (e) {
    out(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (a.help) {
    out(USAGE);
    return 0;
  }
  const opts: RunOptions = { profile: a.quick ? "quick" : "full", modes: a.modes, plantAtSeq: a.plantAtSeq };
  const t0 = Date.now();
  if (a.seed !== null) {
    const r = await runSeed(a.seed, { ...opts, traceAll: a.trace });
    out(r.ok ? `plan: ${JSON.stringify(r.plan)}\n${r.summary}` : formatFailure(r));
    report([r], Date.now() - t0, out);
    return r.ok ? 0 : 1;
  }
  const results: SeedResult[] = [];
  for (let seed = a.from; seed < a.from + a.seeds; seed++) {
    const r = await runSeed(seed, opts);
    results.push(r);
    if (!r.ok) out(formatFailure(r));
    if ((seed - a.from + 1) % 50 === 0)
      out(
        `… ${seed - a.from + 1}/${a.seeds} seeds, ${((Date.now() - t0) / 1000).toFixed(1)} s, failed so far: ${
          results
            .filter((x) => !x.ok)
            .map((x) => x.seed)
            .join(",") || "none"
        }`,
      );
  }
  report(results, Date.now() - t0, out);
  return results.every((r) => r.ok) ? 0 : 1;
}

/** The closing line: totals, and per mode how many seeds drew it, failed, and the time they took. */
function report(results: SeedResult[], ms: number, out: (line: string) => void): void {
  const sum = (f: (r: SeedResult) => number) => results.reduce((acc, r) => acc + f(r), 0);
  const live = results.filter((r) => r.ok).map((r) => r.ticksToLive);
  const perMode: Record<string, { seeds: number; failed: number; seconds: number }> = {};
  for (const r of results)
    for (const m of r.plan.modes) {
      const e = (perMode[m] ??= { seeds: 0, failed: 0, seconds: 0 });
      e.seeds++;
      if (!r.ok) e.failed++;
      e.seconds = Math.round((e.seconds + r.ms / 1000) * 10) / 10;
    }
  const faults: Record<string, number> = {};
  for (const r of results) for (const [k, v] of Object.entries(r.faults)) faults[k] = (faults[k] ?? 0) + v;
  const drops: Record<string, number> = {};
  for (const r of results)
    for (const [k, v] of Object.entries(r.drops)) drops[k] = (drops[k] ?? 0) + (v ?? 0);
  const failed = results.filter((r) => !r.ok);
  out(
    JSON.stringify({
      event: "sim_done",
      seeds: results.length,
      seconds: Math.round(ms / 100) / 10,
      failed: failed.map((r) => r.seed),
      safety: failed.filter((r) => r.failure === "safety").length,
      crashes: failed.filter((r) => r.failure === "crash").length,
      liveness: failed.filter((r) => r.failure === "liveness").length,
      certifiedSeqs: sum((r) => r.certifiedSeqs),
      certifiedOps: sum((r) => r.certifiedOps),
      viewChanges: sum((r) => r.viewChanges),
      stateTransfers: sum((r) => r.stateTransfers),
      rejectedAtBoundary: sum((r) => r.rejected),
      boundaryDrops: drops,
      ed25519Seeds: results.filter((r) => r.plan.crypto === "ed25519").length,
      f2Seeds: results.filter((r) => r.plan.f === 2).length,
      maxTicksToLiveness: live.length ? Math.max(...live) : null,
      deepInvariantsEvery: 1,
      faults,
      perMode,
    }),
  );
}
