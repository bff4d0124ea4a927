/** The system simulator's seed sweep, second half: seeds 56–110 (see seeds.test.ts). */
import { describe, it } from "vitest";
import { systemSweep } from "./sweep.js";

describe("simulated system, seed sweep 56–110", () => {
  it(
    "55 seeds: no acknowledged op lost, same certificate same state, tentative = certified + uncertified, liveness after healing, the SDK accepts only what is certified and its evidence quarantines only the liar, boundary tricks refused",
    () => systemSweep(56, 55),
    120_000,
  );
});
