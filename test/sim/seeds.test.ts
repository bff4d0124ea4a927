/**
 * The seed sweep: 200 seeded simulations (quick plans: shorter fault phases, every kind of fault;
 * every 10th seed with real Ed25519). A failure names its seed; replay it with
 * `npm run sim -- --seed N --quick --trace`.
 */
import { describe, expect, it } from "vitest";
import { formatFailure, runSeed } from "./run.js";

const SEEDS = 200;

describe("simulated cluster, seed sweep", () => {
  it(`${SEEDS} seeds: safety after every step, liveness after healing`, async () => {
    const failures: string[] = [];
    let certified = 0;
    for (let seed = 1; seed <= SEEDS; seed++) {
      const r = await runSeed(seed, { profile: "quick" });
      certified += r.certifiedOps;
      if (!r.ok) failures.push(formatFailure(r));
    }
    expect(failures, failures.join("\n\n")).toEqual([]);
    expect(certified).toBeGreaterThan(SEEDS * 10);
  }, 170_000);
});
