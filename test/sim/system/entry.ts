/**
 * The system simulator's command line as a function (cli.ts calls it; a test calls it with the
 * arguments a failure printed). Returns the exit code; writes through `out`.
 */
import { formatSystemFailure, runSystemSeed, type SystemResult } from "./run.js";

export const SYSTEM_USAGE = `usage: npm run sim:system -- [options]
  --seed N             run one seed (replays a failure exactly, with the options it printed)
  --from N --seeds M   run seeds N .. N+M-1 (default --from 1 --seeds 100)
  --quick              the shorter plans the vitest seed sweep uses
  --trace              print every event (with --seed)
  --help               this text`;

interface Args {
  seed: number | null;
  from: number;
  seeds: number;
  quick: boolean;
  trace: boolean;
  help: boolean;
}

export function parseSystemArgs(argv: readonly string[]): Args {
  const a: Args = { seed: null, from: 1, seeds: 100, quick: false, trace: false, help: false };
  const int = (flag: string, v: string | undefined): number => {
    const n = Number(v);
    if (v === undefined || !Number.isSafeInteger(n) || n < 0) throw new Error(`${flag} needs a whole number`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === "--quick") a.quick = true;
    else if (flag === "--trace") a.trace = true;
    else if (flag === "--help" || flag === "-h") a.help = true;
    else if (flag === "--seed") a.seed = int(flag, argv[++i]);
    else if (flag === "--from") a.from = int(flag, argv[++i]);
    else if (flag === "--seeds") a.seeds = int(flag, argv[++i]);
    else throw new Error(`unknown option ${flag}`);
  }
  return a;
}

const line = (r: SystemResult): string =>
  `seed ${r.seed}: ${r.ok ? "ok" : `FAILED (${r.failure})`} — ${r.acked} ops acknowledged, ${r.certifiedOps} certified in ${r.certifiedSeqs} seqs, settled ${r.ticksToSettle} ticks after healing, ${r.ms} ms`;

export async function systemMain(
  argv: readonly string[],
  out: (s: string) => void = console.log,
): Promise<number> {
  let a: Args;
  try {
    a = parseSystemArgs(argv);
  } catch (e) {
    out(`${(e as Error).message}\n${SYSTEM_USAGE}`);
    return 2;
  }
  if (a.help) {
    out(SYSTEM_USAGE);
    return 0;
  }
  if (a.seed !== null) {
    const r = await runSystemSeed(a.seed, { quick: a.quick, traceAll: a.trace });
    out(line(r));
    out(`counts: ${JSON.stringify(r.counts)}`);
    if (!r.ok) out(formatSystemFailure(r));
    return r.ok ? 0 : 1;
  }
  const t0 = Date.now();
  let failed = 0;
  for (let seed = a.from; seed < a.from + a.seeds; seed++) {
    const r = await runSystemSeed(seed, { quick: a.quick });
    if (!r.ok) {
      failed++;
      out(formatSystemFailure(r));
    } else if (seed % 50 === 0) out(line(r));
  }
  const s = (Date.now() - t0) / 1000;
  out(
    `${a.seeds - failed}/${a.seeds} seeds passed in ${s.toFixed(1)} s (${(a.seeds / s).toFixed(1)} seeds/s)`,
  );
  return failed ? 1 : 0;
}
