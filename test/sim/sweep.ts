/**
 * The vitest seed sweep, shared by its test files (each runs a range, so vitest runs them side by
 * side): quick plans, seeds drawing from every mode, every 10th seed with real Ed25519, the deep
 * invariant check after every step. A failure prints the command that replays it.
 */
import { expect } from "vitest";
import { formatFailure, runSeed } from "./run.js";

export async function sweep(from: number, count: number): Promise<void> {
  // The mutation run (vitest.mutation.config.ts) sweeps fewer seeds: each surviving mutant re-runs it.
  count = Math.min(count, Number(process.env.SIM_SWEEP_SEEDS ?? count));
  const failures: string[] = [];
  let certified = 0;
  for (let seed = from; seed < from + count; seed++) {
    const r = await runSeed(seed, { profile: "quick" });
    certified += r.certifiedOps;
    if (!r.ok) failures.push(formatFailure(r));
  }
  expect(failures, failures.join("\n\n")).toEqual([]);
  expect(certified).toBeGreaterThan(count * 10);
}
