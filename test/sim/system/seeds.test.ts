/**
 * The system simulator's seed sweep, first half: seeds 1–55 (seeds-2.test.ts runs 56–110). Every
 * check after every step, liveness after healing; a failure names its seed and the command that
 * replays it (`npm run sim:system -- --seed N --quick`, plus `--trace` to print every event).
 */
import { describe, it } from "vitest";
import { systemSweep } from "./sweep.js";

describe("simulated system, seed sweep 1–55", () => {
  it(
    "55 seeds: no acknowledged op lost, same certificate same state, tentative = certified + uncertified, liveness after healing, the SDK accepts only what is certified and its evidence quarantines only the liar, boundary tricks refused",
    () => systemSweep(1, 55),
    120_000, // ≈17 s on a quiet 2-core machine (22–24 s at a load average of 5); generous for a loaded one
  );
});
