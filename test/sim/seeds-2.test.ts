/** The seed sweep, second half: seeds 101–200 (see seeds.test.ts). */
import { describe, it } from "vitest";
import { sweep } from "./sweep.js";

describe("simulated cluster, seed sweep 101–200", () => {
  it(
    "100 seeds: safety and invariants after every step, liveness after healing",
    () => sweep(101, 100),
    600_000, // ≈60 s per file on a quiet 2-core machine; generous for a loaded one
  );
});
