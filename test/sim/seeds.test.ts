/**
 * The seed sweep, first half: seeds 1–100 (seeds-2.test.ts runs 101–200). Quick plans drawing from
 * every fault mode; a failure names its seed and the exact command that replays it
 * (`npm run sim -- --seed N --quick`, plus `--trace` to print every event).
 */
import { describe, it } from "vitest";
import { sweep } from "./sweep.js";

describe("simulated cluster, seed sweep 1–100", () => {
  it(
    "100 seeds: safety and invariants after every step, liveness after healing",
    () => sweep(1, 100),
    600_000, // ≈60 s per file on a quiet 2-core machine; generous for a loaded one
  );
});
