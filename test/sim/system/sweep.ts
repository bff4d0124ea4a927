/**
 * The vitest sweep of the system simulator, shared by its test files (each runs a range, so vitest
 * runs them side by side): quick plans, every 10th seed with real Ed25519. A failure prints the
 * command that replays it. Wider sweeps run outside `npm test`: `npm run sim:system -- --seeds 1000`.
 */
import { expect } from "vitest";
import { formatSystemFailure, runSystemSeed } from "./run.js";

export async function systemSweep(from: number, count: number): Promise<void> {
  const failures: string[] = [];
  let acked = 0;
  const counts: Record<string, number> = {};
  for (let seed = from; seed < from + count; seed++) {
    const r = await runSystemSeed(seed, { quick: true });
    acked += r.acked;
    for (const [k, n] of Object.entries(r.counts)) counts[k] = (counts[k] ?? 0) + n;
    if (!r.ok) failures.push(formatSystemFailure(r));
  }
  expect(failures, failures.join("\n\n")).toEqual([]);
  // the runs did write: every seed acknowledges some ops (so "nothing lost" is about something)
  expect(acked).toBeGreaterThan(count * 5);
  // and the adversaries played: verified reads, lies in replies refused into evidence, boundary tricks refused
  for (const prefix of ["read.accepted", "reply_lie.", "read.refused.", "evidence.", "trick.refused"])
    expect(
      Object.keys(counts).filter((k) => k.startsWith(prefix)),
      prefix,
    ).not.toEqual([]);
}
