/**
 * The simulator's adversaries and the checks on them can fail: a bug planted in the reading client,
 * in the evidence check or in the peer parsers is caught by the check meant for it, on a seed that
 * otherwise passes. (Seeds: the first quick seeds whose Byzantine replica or node plays the lie.)
 * Each takes about a second.
 */
import { describe, expect, it } from "vitest";
import { runSystemSeed, type SystemRunOptions } from "./run.js";

/** The seed passes without the bug (the same lies told), and the run with it. */
async function planted(seed: number, opts: SystemRunOptions) {
  const lies = opts.readerPlants?.lies;
  const clean = await runSystemSeed(seed, { quick: true, ...(lies ? { readerPlants: { lies } } : {}) });
  expect(clean.ok, clean.error).toBe(true);
  return runSystemSeed(seed, { quick: true, ...opts });
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
