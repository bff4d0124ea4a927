/**
 * Where a bench run writes its summary. The committed `bench/results/*.md` are what docs/performance.md
 * quotes, so only a full run with the default settings replaces them; a partial run (fewer ops or
 * rounds, a subset of the matrix) writes only where `--out` says, and otherwise just prints.
 */
export function resultsPath(opts: {
  /** `--out PATH`, if given: always written. */
  out: string | undefined;
  /** The committed file a full run replaces. */
  committed: string;
  /** The settings that differ from the defaults (empty: a full run). */
  changed: string[];
}): { path: string | undefined; why: string } {
  if (opts.out !== undefined) return { path: opts.out, why: `--out ${opts.out}` };
  if (opts.changed.length === 0) return { path: opts.committed, why: "a full run with the default settings" };
  return {
    path: undefined,
    why: `a partial run (${opts.changed.join(", ")}) does not replace ${opts.committed}; pass --out PATH to keep it`,
  };
}
