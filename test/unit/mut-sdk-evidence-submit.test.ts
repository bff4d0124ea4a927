// client/evidence.ts submitEvidence with no `fetch` given uses the platform's: evidence reaches a
// real HTTP server (node:http on 127.0.0.1, a free port) as the JSON POSTed to /v1/evidence, and
// its answer comes back.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { submitEvidence } from "../../client/evidence.js";

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

describe("submitEvidence with the default fetch", () => {
  it("POSTs the evidence to /v1/evidence and returns the server's answer", async () => {
    const evidence = { kind: "bad_certificate", reply: { kind: "read" } };
    expect(await submitEvidence(endpoint, evidence)).toEqual(answer);
    expect(received).toEqual([{ method: "POST", url: "/v1/evidence", body: JSON.stringify(evidence) }]);
  });
});
