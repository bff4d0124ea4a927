// `aspec evidence submit FILE`, run in-process (`main`) against a stand-in evidence endpoint
// (node:http): the file's JSON is what gets posted, each accepted outcome is said plainly (who is
// quarantined, or why nothing changed), and a refusal or an unreadable file exits 1 with the reason.
import { createServer, type Server } from "node:http";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { main, type CliIo } from "../../../../client/cli.js";
import { submissionLine } from "../../../../client/cli/evidence.js";
import type { EvidenceSubmission } from "../../../../client/evidence.js";

let dir: string;
let server: Server;
let endpoint: string;
/** What the stand-in answers next, and what it was sent. */
let answer: { status: number; body: unknown };
let posted: unknown[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "aspec-cli-evidence-"));
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      if (req.method !== "POST" || req.url !== "/v1/evidence") {
        res.writeHead(404, { "content-type": "application/json" });
        return res.end(JSON.stringify({ error: { code: "not_found", message: String(req.url) } }));
      }
      posted.push(JSON.parse(body));
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  posted = [];
});

async function aspec(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: {} };
  return { code: await main([...argv, "--endpoint", endpoint], io), out, err };
}

const EVIDENCE = { kind: "bad_certified_read", reply: { kind: "read", replica: "weur", note: "é" } };
const verdict = { kind: "bad_certified_read", replica: "weur", digest: "d1", detail: "proof fails" } as const;
const QUARANTINED: EvidenceSubmission = { verdict, outcome: "quarantined", at: 1 };

async function evidenceFile(name: string, content: string) {
  const f = join(dir, name);
  await writeFile(f, content);
  return f;
}

describe("aspec evidence submit", () => {
  it("posts the file's evidence and says who is quarantined (human), or prints the answer (--json)", async () => {
    const f = await evidenceFile("lie.json", JSON.stringify(EVIDENCE));
    answer = { status: 200, body: QUARANTINED };
    const r = await aspec(["evidence", "submit", f]);
    expect(r).toEqual({
      code: 0,
      out: [
        "accepted: bad_certified_read against replica weur: weur is quarantined  [digest d1] proof fails",
      ],
      err: [],
    });
    expect(posted).toEqual([EVIDENCE]);
    const j = await aspec(["evidence", "submit", f, "--json"]);
    expect(j.code).toBe(0);
    expect(j.out.map((l) => JSON.parse(l))).toEqual([QUARANTINED]);
  });

  it("refused evidence exits 1 with the server's code, message and reason", async () => {
    const f = await evidenceFile("weak.json", JSON.stringify(EVIDENCE));
    const refusal = { code: "invalid_evidence", message: "proves nothing", details: { reason: "honest" } };
    answer = { status: 422, body: { error: refusal } };
    const r = await aspec(["evidence", "submit", f]);
    expect(r).toEqual({
      code: 1,
      out: [],
      err: ['aspec: invalid_evidence: proves nothing {"reason":"honest"}'],
    });
    const j = await aspec(["evidence", "submit", f, "--json"]);
    expect(j.code).toBe(1);
    expect(j.out.map((l) => JSON.parse(l))).toEqual([{ error: refusal }]);
    // without details, the line ends at the message
    answer = { status: 404, body: { error: { code: "unknown_evidence", message: "no such evidence" } } };
    expect((await aspec(["evidence", "submit", f])).err).toEqual([
      "aspec: unknown_evidence: no such evidence",
    ]);
  });

  it("an unreadable or non-JSON file exits 1 naming the file, and sends nothing", async () => {
    const missing = join(dir, "absent.json");
    const r = await aspec(["evidence", "submit", missing]);
    expect(r.code).toBe(1);
    expect(r.out).toEqual([]);
    expect(r.err).toHaveLength(1);
    expect(r.err[0]).toMatch(new RegExp(`^aspec: cannot read evidence from ${missing}: ENOENT`));
    const garbled = await evidenceFile("garbled.json", "{not json");
    const g = await aspec(["evidence", "submit", garbled]);
    expect(g.code).toBe(1);
    expect(g.err[0]).toMatch(new RegExp(`^aspec: cannot read evidence from ${garbled}: .*JSON`));
    expect(posted).toEqual([]);
  });
});

describe("an accepted submission, human-readable", () => {
  const line = (s: Partial<EvidenceSubmission>) => submissionLine({ ...QUARANTINED, ...s });

  it("says what changed for each outcome", () => {
    const tail = "  [digest d1] proof fails";
    const head = "accepted: bad_certified_read against replica weur: ";
    expect(line({ outcome: "recorded" })).toBe(`${head}recorded${tail}`);
    expect(line({ outcome: "not_recorded" })).toBe(
      `${head}verified, not stored (the cluster evidence bound is reached)${tail}`,
    );
    expect(line({ outcome: "replay" })).toBe(`${head}accepted before: nothing changed${tail}`);
  });

  it("an already quarantined replica: by which evidence, if the server says", () => {
    const q = { replica: "weur", kind: "contradicted_result", digest: "d0", at: 0 };
    expect(line({ outcome: "already_quarantined", quarantine: q })).toBe(
      "accepted: bad_certified_read against replica weur: weur was already quarantined (by contradicted_result)  [digest d1] proof fails",
    );
    expect(line({ outcome: "already_quarantined" })).toContain(
      "weur was already quarantined (by other evidence)",
    );
  });

  it("cluster equivocation names the nodes and the seq, not a replica", () => {
    expect(
      submissionLine({
        verdict: {
          kind: "cluster_equivocation",
          nodes: ["pbft-1", "pbft-2"],
          seq: 7,
          digest: "d2",
          detail: "two bodies",
        },
        outcome: "recorded",
      }),
    ).toBe(
      "accepted: cluster_equivocation against nodes pbft-1, pbft-2 (seq 7): recorded  [digest d2] two bodies",
    );
  });
});
