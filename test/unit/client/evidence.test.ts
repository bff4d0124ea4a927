/**
 * client/evidence.ts: evidence built from what the SDK caught is checked with the one verifier
 * before it is returned (null when nothing is provable), and `aspec evidence submit` parses.
 * Submission against a real server: test/e2e/evidence-cli.test.ts.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseCli, UsageError } from "../../../client/cli/args.js";
import {
  contradictionEvidence,
  equivocationEvidence,
  evidenceFrom,
  submitEvidence,
} from "../../../client/evidence.js";
import { ReplyVerificationError } from "../../../client/errors.js";
import type { Evidence } from "../../../shared/evidence.js";
import { clone, evidenceWorld, type EvidenceWorld } from "../../support/evidence-fixtures.js";

let w: EvidenceWorld;
let lies: Record<Evidence["kind"], Evidence>;
// Built per test, not in beforeAll: code reached outside a test counts as module-level for mutation
// testing, and Stryker runs such mutants without activating them (they "survive" whatever this checks).
beforeEach(async () => {
  w = await evidenceWorld("evidence-client");
  lies = await w.lies();
});

const replyOf = (e: Evidence) => (e as { reply: unknown }).reply;

describe("evidenceFrom", () => {
  it("turns a caught lie into the evidence its reason names, whatever the reason says", async () => {
    const cases: [string | undefined, Evidence["kind"]][] = [
      ["bad_read_proof", "bad_certified_read"],
      ["bad_result_proof", "bad_certified_result"],
      ["bad_certificate", "bad_certificate"],
      [undefined, "bad_certified_read"],
      ["certificate_stale", "bad_certificate"], // a wrong hint: the other kinds are tried too
    ];
    for (const [reason, kind] of cases) {
      const e = await evidenceFrom({ reason, reply: replyOf(lies[kind]) }, w.pins);
      expect(e, `${reason} → ${kind}`).toEqual({ kind, reply: replyOf(lies[kind]) });
    }
  });

  it("takes the SDK's ReplyVerificationError as it is (the reply it kept)", async () => {
    const err = new ReplyVerificationError(
      "bad_read_proof",
      "weur",
      replyOf(lies.bad_certified_read),
      "bad proof",
    );
    expect(await evidenceFrom(err, w.pins)).toMatchObject({ kind: "bad_certified_read" });
  });

  it("is null when the reply alone proves nothing: honest, tampered, or not a reply", async () => {
    const tampered = clone(w.honestRead);
    tampered.certified!.value!.value = 50; // not re-signed: the replica never said it
    for (const reply of [w.honestRead, w.honestStatus, w.honestOp, tampered, null, "x", {}])
      expect(await evidenceFrom({ reason: "bad_read_proof", reply }, w.pins)).toBeNull();
  });
});

describe("contradictionEvidence / equivocationEvidence", () => {
  it("package a provable pair, and nothing else", async () => {
    const lying = replyOf(lies.bad_certified_result);
    expect(await contradictionEvidence(lying, w.truth, w.pins)).toMatchObject({
      kind: "contradicted_result",
    });
    expect(await contradictionEvidence(w.honestStatus, w.truth, w.pins)).toBeNull();
    const other = await w.equivocating();
    expect(await equivocationEvidence(w.cert, other, w.pins)).toMatchObject({ kind: "cluster_equivocation" });
    expect(await equivocationEvidence(w.cert, clone(w.cert), w.pins)).toBeNull();
  });
});

describe("aspec evidence submit", () => {
  it("parses; anything else is a usage error", () => {
    expect(parseCli(["evidence", "submit", "e.json", "--json"]).command).toEqual({
      kind: "evidence",
      action: "submit",
      file: "e.json",
    });
    for (const argv of [
      ["evidence"],
      ["evidence", "submit"],
      ["evidence", "send", "f"],
      ["evidence", "submit", "a", "b"],
    ])
      expect(() => parseCli(argv)).toThrow(UsageError);
  });
});

// client/evidence.ts submitEvidence with no `fetch` given uses the platform's: evidence reaches a
// real HTTP server (node:http on 127.0.0.1, a free port) as the JSON POSTed to /v1/evidence, and
// its answer comes back.
describe("submitEvidence with the default fetch", () => {
  let server: Server;
  let endpoint: string;
  const received: { method: string; url: string; body: string }[] = [];
  const answer = { verdict: { kind: "bad_certificate" }, outcome: "recorded" };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => (body += chunk.toString()));
      req.on("end", () => {
        received.push({ method: req.method ?? "", url: req.url ?? "", body });
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

  it("POSTs the evidence to /v1/evidence and returns the server's answer", async () => {
    const evidence = { kind: "bad_certificate", reply: { kind: "read" } };
    expect(await submitEvidence(endpoint, evidence)).toEqual(answer);
    expect(received).toEqual([{ method: "POST", url: "/v1/evidence", body: JSON.stringify(evidence) }]);
  });
});
