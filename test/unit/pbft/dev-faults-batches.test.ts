/** The PBFT nodes' dev faults about certified batches (platform/dev-faults/node-faults.ts): noPost, forgeBatches. */
import { describe, expect, it } from "vitest";
import type { Certificate } from "../../../shared/certified/types.js";
import {
  forgeBatch,
  parseNodeFaults,
  postsCertificates,
  rewriteFaulty,
  servesBatches,
} from "../../../platform/dev-faults/node-faults.js";
import type { Outgoing } from "../../../shared/pbft/effects.js";

const body = (seq: number) => ({
  cluster: "x",
  seq,
  view: 0,
  logRoot: "aa",
  stateRoot: "0b",
  resultsRoot: "cc",
  opCount: 2,
  time: 1,
});
const certificate = (seq: number): Certificate => ({ body: body(seq), sigs: [{ node: 0, sig: "s" }] });
const batch = (seq: number, ops: unknown[]) => ({ certificate: certificate(seq), ops });
const share = { to: [0, 1, 2, 3], msg: { type: "share", body: body(1) } } as Outgoing;

describe("dev faults about certified batches", () => {
  it("are parsed like the others", () => {
    expect(parseNodeFaults({ noPost: true, forgeBatches: true, silent: false })).toEqual({
      noPost: true,
      forgeBatches: true,
    });
  });

  it("noPost: no certificate posted, batches still served, protocol messages unchanged", () => {
    expect(postsCertificates({ noPost: true })).toBe(false);
    expect(servesBatches({ noPost: true })).toBe(true);
    expect(servesBatches({ silent: true })).toBe(false);
    expect(rewriteFaulty({ noPost: true, forgeBatches: true }, share, 2)).toEqual([share]);
  });

  it("forgeBatches: odd seqs with ops lose their last op; the others get another stateRoot", () => {
    const odd = batch(3, [1, 2]);
    expect(forgeBatch(odd)).toEqual({ certificate: odd.certificate, ops: [1] });
    for (const b of [batch(4, [1, 2]), batch(5, [])]) {
      const f = forgeBatch(b);
      expect(f.ops).toEqual(b.ops);
      expect(f.certificate.sigs).toEqual(b.certificate.sigs);
      expect(f.certificate.body).toEqual({ ...b.certificate.body, stateRoot: "1b" });
    }
    expect(odd).toEqual(batch(3, [1, 2])); // the kept batch itself is untouched
  });
});
