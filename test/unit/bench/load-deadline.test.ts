// The benchmarks' HTTP client: a request unanswered by its deadline fails (and its connection is
// closed) instead of being waited on; a load counts such requests and goes on.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RequestTimeout, get, makeAgent, post, runLoad } from "../../../bench/ec/load.js";

let server: Server;
let port: number;
let closed = 0;

beforeAll(async () => {
  // "/hang" never answers (as a lost reply); "/slow-body" sends headers, then never ends the body
  server = createServer((req, res) => {
    req.on("close", () => closed++);
    req.resume();
    if (req.url === "/hang") return;
    if (req.url === "/slow-body") return void res.writeHead(200).write("{");
    res.writeHead(200).end("ok");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});

describe("request deadlines", () => {
  it("a GET with no reply fails with RequestTimeout and its connection is closed", async () => {
    const agent = makeAgent(1);
    const before = closed;
    await expect(get(agent, port, "/hang", 50)).rejects.toBeInstanceOf(RequestTimeout);
    await expect.poll(() => closed).toBeGreaterThan(before);
    agent.destroy();
  });
  it("a POST whose body never ends fails too", async () => {
    const agent = makeAgent(1);
    await expect(post(agent, port, "/slow-body", "{}", true, {}, 50)).rejects.toBeInstanceOf(RequestTimeout);
    agent.destroy();
  });
  it("an answered request is not affected", async () => {
    const agent = makeAgent(1);
    expect(await get(agent, port, "/ok", 5_000)).toEqual({ status: 200, body: "ok" });
    agent.destroy();
  });
  it("a load counts requests past their deadline as errors and finishes", async () => {
    const agent = makeAgent(2);
    const replies: number[] = [];
    const r = await runLoad(agent, {
      port,
      path: "/hang",
      bodies: [["{}", "{}"], ["{}"]],
      timeoutMs: 50,
      onReply: (_c, _i, status) => replies.push(status),
    });
    expect(r).toMatchObject({ requests: 3, errors: 3, timedOut: 3 });
    expect(replies).toEqual([0, 0, 0]);
    agent.destroy();
  });
});
