/** The PBFT nodes' dev-only faults (platform/dev-faults/node-faults.ts): what leaves a faulty node. */
import { describe, expect, it } from "vitest";
import { faultInjectionAllowed } from "../../../shared/config.js";
import type { Certificate } from "../../../shared/certified/types.js";
import {
  certificateLeaving,
  parseNodeFaults,
  postsCertificates,
  rewriteFaulty,
  sendDelayMs,
} from "../../../platform/dev-faults/node-faults.js";
import { proposalDigest } from "../../../shared/pbft/digest.js";
import type { Outgoing } from "../../../shared/pbft/effects.js";
import type { Proposal } from "../../../shared/pbft/messages.js";
import type { SignedOp } from "../../../shared/ops.js";

const op = (seq: number) =>
  ({
    client: "c",
    seq,
    key: "k",
    type: "counter",
    op: "add",
    args: { n: 1 },
    ts: 1,
    sig: "s",
  }) as unknown as SignedOp;
const proposal: Proposal = { ops: [op(1), op(2)], time: 1_000, view: 0 };
// Built in the tests, not while they are collected (test/support/lazy.ts says why).
const prePrepare = (): Outgoing => ({
  to: [0, 1, 2, 3],
  msg: { type: "pre-prepare", view: 0, seq: 1, digest: proposalDigest(proposal) },
  proposal,
});
const body = {
  cluster: "x",
  seq: 1,
  view: 0,
  logRoot: "aa",
  stateRoot: "0b",
  resultsRoot: "cc",
  opCount: 2,
  time: 1,
};
const share: Outgoing = { to: [0, 1, 2, 3], msg: { type: "share", body } } as Outgoing;

describe("dev faults of a PBFT node", () => {
  it("act only in dev, with the configured token", () => {
    expect(faultInjectionAllowed({ ENVIRONMENT: "dev", FAULT_TOKEN: "t" }, "t")).toBe(true);
    expect(faultInjectionAllowed({ ENVIRONMENT: "dev", FAULT_TOKEN: "t" }, "u")).toBe(false);
    expect(faultInjectionAllowed({ ENVIRONMENT: "dev", FAULT_TOKEN: "" }, "")).toBe(false);
    expect(faultInjectionAllowed({ ENVIRONMENT: "dev" }, undefined)).toBe(false);
    expect(faultInjectionAllowed({ ENVIRONMENT: "production", FAULT_TOKEN: "t" }, "t")).toBe(false);
  });

  it("keep only the known modes switched on", () => {
    expect(parseNodeFaults({ silent: true, equivocate: false, wrongRoots: "yes", other: true })).toEqual({
      silent: true,
    });
    expect(parseNodeFaults(null)).toEqual({});
    for (const raw of [undefined, "silent", 1, true]) expect(parseNodeFaults(raw)).toEqual({});
  });

  it("without faults change nothing", () => {
    expect(rewriteFaulty({}, prePrepare(), 0)).toEqual([prePrepare()]);
  });

  it("silent: only the node's own copy is left, and it posts no certificate", () => {
    expect(rewriteFaulty({ silent: true }, share, 2)).toEqual([{ ...share, to: [2] }]);
    expect(rewriteFaulty({ silent: true }, { ...share, to: [1, 3] } as Outgoing, 2)).toEqual([]);
    expect(postsCertificates({ silent: true })).toBe(false);
    expect(postsCertificates({ wrongRoots: true })).toBe(true);
  });

  it("equivocate: its own copy and the first backup get the proposal, the other backups another one for the same seq", () => {
    const outs = rewriteFaulty({ equivocate: true }, prePrepare(), 0);
    expect(outs.map((o) => o.to)).toEqual([[0], [1], [2, 3]]);
    expect(outs[0]).toEqual({ ...prePrepare(), to: [0] });
    const [, a, b] = outs as { msg: { seq: number; digest: string }; proposal: Proposal }[];
    expect(a!.msg).toEqual(prePrepare().msg);
    expect(b!.msg.seq).toBe(1);
    expect(b!.msg.digest).not.toBe(a!.msg.digest);
    expect(b!.msg.digest).toBe(proposalDigest(b!.proposal));
    // deterministic: a retransmission repeats the same split
    expect(rewriteFaulty({ equivocate: true }, prePrepare(), 0)).toEqual(outs);
    // the other batch is the same ops reversed, one ms later
    expect(b!.proposal).toEqual({ ...proposal, ops: [...proposal.ops].reverse(), time: proposal.time + 1 });
    // "first" is the lowest-numbered backup, numerically
    const wide = rewriteFaulty({ equivocate: true }, { ...prePrepare(), to: [10, 9, 2] } as Outgoing, 0);
    expect(wide.map((o) => o.to)).toEqual([[2], [9, 10]]);
    // one backup alone: nobody to tell another story, so it gets the proposal and no empty send is made
    const single = { ...prePrepare(), to: [2] } as Outgoing;
    expect(rewriteFaulty({ equivocate: true }, single, 0)).toEqual([single]);
    // a forwarded envelope (no message of its own) goes as it is
    const forwarded = { to: [1, 2, 3], forward: { from: 1, msg: prePrepare().msg, sig: "s" } } as Outgoing;
    expect(rewriteFaulty({ equivocate: true }, forwarded, 0)).toEqual([forwarded]);
    // votes and empty proposals go unchanged
    expect(rewriteFaulty({ equivocate: true }, share, 0)).toEqual([
      { ...share, to: [0] },
      { ...share, to: [1, 2, 3] },
    ]);
  });

  it("wrongRoots: shares to others are over a wrong stateRoot, its own is right", () => {
    const outs = rewriteFaulty({ wrongRoots: true }, share, 1) as {
      to: number[];
      msg: { body: typeof body };
    }[];
    expect(outs[0]!.to).toEqual([1]);
    expect(outs[0]!.msg.body.stateRoot).toBe("0b");
    expect(outs[1]!.to).toEqual([0, 2, 3]);
    expect(outs[1]!.msg.body).toEqual({ ...body, stateRoot: "1b" });
    // and a certificate it posts goes without its own (right) signature
    const cert = { body, sigs: [0, 1, 2].map((node) => ({ node, sig: "s" })) } as Certificate;
    expect(certificateLeaving({ wrongRoots: true }, cert, 1).sigs.map((x) => x.node)).toEqual([0, 2]);
    expect(certificateLeaving({ silent: true }, cert, 1)).toBe(cert);
  });

  it("wrongRoots: a certificate it sends a peer that lacks it goes without its own (right) signature", () => {
    const cert = { body, sigs: [0, 1, 2].map((node) => ({ node, sig: "s" })) } as Certificate;
    const out = { to: [1, 3], msg: { type: "certificate", certificate: cert } } as Outgoing;
    const [own, sent, ...rest] = rewriteFaulty({ wrongRoots: true }, out, 1) as {
      to: number[];
      msg: { type: string; certificate: Certificate };
    }[];
    expect(rest).toEqual([]);
    expect(own).toEqual({ ...out, to: [1] });
    expect(sent!.to).toEqual([3]);
    expect(sent!.msg.type).toBe("certificate");
    expect(sent!.msg.certificate).toEqual({ body, sigs: [0, 2].map((node) => ({ node, sig: "s" })) });
    // other faults send it as it is
    expect(rewriteFaulty({ equivocate: true }, out, 1)).toEqual([
      { ...out, to: [1] },
      { ...out, to: [3] },
    ]);
  });
});

describe("dev delay of a PBFT node's sends", () => {
  it("keeps a well-formed [min, max] only", () => {
    expect(parseNodeFaults({ delayMs: [70, 150] })).toEqual({ delayMs: [70, 150] });
    expect(parseNodeFaults({ delayMs: [5, 5], silent: true })).toEqual({ delayMs: [5, 5], silent: true });
    expect(parseNodeFaults({ delayMs: [0, 5] })).toEqual({ delayMs: [0, 5] });
    for (const bad of [[150, 70], [-1, 5], [0, 0], [1, 20_000], [1.5, 3], [1], [1, 2, 3], "70-150", null])
      expect(parseNodeFaults({ delayMs: bad })).toEqual({});
  });

  it("draws each send's delay from [min, max] and rewrites no message", () => {
    const f = parseNodeFaults({ delayMs: [70, 150] });
    expect(sendDelayMs(f, 0)).toBe(70);
    expect(sendDelayMs(f, 0.999999)).toBe(150);
    expect(sendDelayMs({}, 0.5)).toBe(0);
    expect(rewriteFaulty(f, prePrepare(), 0)).toEqual([prePrepare()]);
  });
});
