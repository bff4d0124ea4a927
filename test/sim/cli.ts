/**
 * The simulator's command line.
 *   npm run sim -- --seeds 1000          run seeds 1..1000 (or --from N --seeds M)
 *   npm run sim -- --seed 42 [--trace]   replay one seed exactly (--trace prints every event)
 *   add --quick for the shorter plans the vitest seed sweep uses (replay its failures with it)
 */
import { formatFailure, runSeed, type SeedResult } from "./run.js";

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const profile = () => (process.argv.includes("--quick") ? "quick" : "full");

async function main(): Promise<void> {
  const one = arg("seed");
  if (one !== undefined) {
    const r = await runSeed(Number(one), { traceAll: process.argv.includes("--trace"), profile: profile() });
    report([r]);
    process.exit(r.ok ? 0 : 1);
  }
  const count = Number(arg("seeds") ?? 100);
  const from = Number(arg("from") ?? 1);
  const results: SeedResult[] = [];
  const t0 = Date.now();
  for (let seed = from; seed < from + count; seed++) {
    const r = await runSeed(seed, { profile: profile() });
    results.push(r);
    if (!r.ok) console.log(formatFailure(r));
    if ((seed - from + 1) % 50 === 0)
      console.log(`… ${seed - from + 1}/${count} seeds, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  report(results);
  process.exit(results.every((r) => r.ok) ? 0 : 1);
}

function report(results: SeedResult[]): void {
  const failed = results.filter((r) => !r.ok);
  for (const r of results.length === 1 ? results : []) {
    if (!r.ok) console.log(formatFailure(r));
    else console.log(`plan: ${JSON.stringify(r.plan)}\n${r.summary}`);
  }
  const sum = (f: (r: SeedResult) => number) => results.reduce((a, r) => a + f(r), 0);
  const live = results.filter((r) => r.ok).map((r) => r.ticksToLive);
  console.log(
    JSON.stringify({
      event: "sim_done",
      seeds: results.length,
      failed: failed.map((r) => r.seed),
      certifiedSeqs: sum((r) => r.certifiedSeqs),
      certifiedOps: sum((r) => r.certifiedOps),
      viewChanges: sum((r) => r.viewChanges),
      stateTransfers: sum((r) => r.stateTransfers),
      rejectedAtBoundary: sum((r) => r.rejected),
      ed25519Seeds: results.filter((r) => r.plan.crypto === "ed25519").length,
      maxTicksToLiveness: live.length ? Math.max(...live) : null,
    }),
  );
}

void main();
