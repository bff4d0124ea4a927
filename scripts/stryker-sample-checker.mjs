// A Stryker checker ("sample"): lets through a uniform random sample of the mutants, each one kept
// with probability MUTATION_SAMPLE (0 < p ≤ 1), decided by a hash of the mutant (file, place,
// mutator, replacement) and MUTATION_SAMPLE_SEED — so a rerun samples the same mutants. The others
// are marked CompileError with the reason "not in the sample": Stryker then neither runs them nor
// counts them, and its score is the sample's. For folders too slow to run whole (`shared/pbft`:
// every mutant re-runs simulator scenarios). Plain JavaScript: Stryker loads plugins without a
// TypeScript loader.
import { createHash } from "node:crypto";
import { CheckStatus } from "@stryker-mutator/api/check";
import { PluginKind, declareClassPlugin } from "@stryker-mutator/api/plugin";

export const NOT_SAMPLED = "not in the sample";

/** Whether the mutant is in the sample of rate `p` drawn with `seed`. */
export function sampled(m, p, seed) {
  const file = m.fileName.replace(/^.*?\/((shared|client)\/)/, "$1");
  const { start, end } = m.location;
  const key = `${seed}|${file}|${start.line}:${start.column}-${end.line}:${end.column}|${m.mutatorName}|${m.replacement ?? ""}`;
  const h = createHash("sha256").update(key).digest().readUInt32BE(0);
  return h / 2 ** 32 < p;
}

class SampleChecker {
  async init() {
    const p = Number(process.env.MUTATION_SAMPLE);
    if (!(p > 0 && p <= 1))
      throw new Error(`MUTATION_SAMPLE must be in (0, 1], not ${process.env.MUTATION_SAMPLE}`);
    this.p = p;
    this.seed = process.env.MUTATION_SAMPLE_SEED ?? "1";
  }
  async check(mutants) {
    return Object.fromEntries(
      mutants.map((m) => [
        m.id,
        sampled(m, this.p, this.seed)
          ? { status: CheckStatus.Passed }
          : { status: CheckStatus.CompileError, reason: NOT_SAMPLED },
      ]),
    );
  }
}

export const strykerPlugins = [declareClassPlugin(PluginKind.Checker, "sample", SampleChecker)];
