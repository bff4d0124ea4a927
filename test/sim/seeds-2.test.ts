/** The seed sweep, second half: seeds 101–140 (see seeds.test.ts). */
import { describe, it } from "vitest";
import { sweep } from "./sweep.js";

describe("simulated cluster, seed sweep 101–140", () => {
  it(
    "40 seeds: safety and invariants after every step, liveness after healing",
    () => sweep(101, 40),
    600_000, // ≈35 s per file on a quiet 2-core machine; generous for a loaded one
  );
});
