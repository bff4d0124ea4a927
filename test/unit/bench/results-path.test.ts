// Only a full default bench run replaces the committed results; a partial one writes only to --out.
import { describe, expect, it } from "vitest";
import { resultsPath } from "../../../bench/results-path.js";

const committed = "bench/results/ec-latest.md";

describe("resultsPath", () => {
  it("a full run replaces the committed file", () => {
    expect(resultsPath({ out: undefined, committed, changed: [] }).path).toBe(committed);
  });
  it("a partial or interrupted run writes nothing, and says why", () => {
    const r = resultsPath({ out: undefined, committed, changed: ["--ops", "interrupted"] });
    expect(r.path).toBeUndefined();
    expect(r.why).toContain("--ops, interrupted");
    expect(r.why).toContain("--out");
  });
  it("--out always writes where it says", () => {
    expect(resultsPath({ out: "/tmp/x.md", committed, changed: ["--ops"] }).path).toBe("/tmp/x.md");
  });
});
