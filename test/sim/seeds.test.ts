/**
 * The seed sweep, first half: seeds 1–60 (seeds-2.test.ts runs 101–140; 100 in `npm test`, for its 10-minute budget — wider sweeps run outside it: `npm run sim -- --from 1 --seeds 500 --quick`). Quick plans drawing from
 * every fault mode; a failure names its seed and the exact command that replays it
 * (`npm run sim -- --seed N --quick`, plus `--trace` to print every event).
 */
import { describe, it } from "vitest";
import { sweep } from "./sweep.js";

describe("simulated cluster, seed sweep 1–60", () => {
  it(
    "60 seeds: safety and invariants after every step, liveness after healing",
    () => sweep(1, 60),
    600_000, // ≈35 s per file on a quiet 2-core machine; generous for a loaded one
  );
});
