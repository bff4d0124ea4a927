/**
 * The simulator's adversaries and the checks on them can fail: a bug planted in the reading client,
 * in the evidence check or in the peer parsers is caught by the check meant for it, on a seed that
 * otherwise passes. Each looks for it from a first seed on, up to SEARCH seeds (what a seed plays
 * changes with the plans' ops), so a change to the plans cannot make the test pass vacuously: it
 * fails if no seed in the range exercises the plant. About a second each when the first seed does.
 */
import { describe, expect, it } from "vitest";
import { runSystemSeed, type SystemRunOptions } from "./run.js";

const SEARCH = 8;

/** The first seed from `first` on that fails with the bug planted; each passes without it (the same lies told). */
async function planted(first: number, opts: SystemRunOptions) {
  const lies = opts.readerPlants?.lies;
  for (let seed = first; seed < first + SEARCH; seed++) {
    const clean = await runSystemSeed(seed, { quick: true, ...(lies ? { readerPlants: { lies } } : {}) });
    expect(clean.ok, clean.error).toBe(true);
    const r = await runSystemSeed(seed, { quick: true, ...opts });
    if (!r.ok) return r;
  }
  return {
    ok: true,
    failure: undefined,
    error: `no seed of ${first}..${first + SEARCH - 1} exercised the plant`,
  };
}

describe("system simulator, planted bugs in the SDK's checks and the boundaries", () => {
  it("a client that forgets a replica's newest certificate accepts the liar's older one as newer", async () => {
    // the liar tells only its old certificates (an earlier answer again, or an older kept one)
    const r = await planted(1, { readerPlants: { acceptOlderCertificate: true, lies: ["old-certificate"] } });
    expect(r.failure).toBe("violation");
    expect(r.error).toMatch(/client \d from r\d: accepted certificate seq \d+ as newest after seq \d+/);
  });

  it("an evidence check that trusts whichever key signed quarantines the honest replica the liar framed", async () => {
    const r = await planted(1, { readerPlants: { trustSigner: true } });
    expect(r.failure).toBe("violation");
    expect(r.error).toMatch(/honest replica r2 was quarantined \(evidence of r1's frame\)/);
  });

  it("a peer parser that takes an object for parsed text lets a structured-clone trick through", async () => {
    const r = await planted(2, { laxParsers: true });
    expect(r.failure).toBe("violation");
    expect(r.error).toMatch(
      /replicate \(\w[\w-]*\): the parser accepted a structured-clone object instead of text/,
    );
  });
});
