/**
 * The one body reader (workers/json-body.ts): a body without `Content-Length` is read as a stream
 * and given up past the limit (not buffered whole), a body that cannot be read to its end is
 * `400 truncated_body` (not a transient 503), and a leading UTF-8 byte-order mark is
 * `400 malformed_json`. Each leaves every replica's tables as they were.
 */
import { SELF, createExecutionContext, env } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { utf8 } from "../../shared/bytes.js";
import { BODY_BYTES_MAX } from "../../workers/app.js";
import worker from "../../workers/index.js";
import { TestClient, read } from "./helpers.js";
import { settled } from "./state-digest.js";

const OPS = "https://edge.test/v1/ops?replica=weur";
const CHUNK = 4096;

/** A stream of `total` bytes of JSON-ish text, made lazily, counting what the server pulled. */
function countingStream(total: number) {
  const pulled = { bytes: 0, cancelled: false };
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(ctl) {
        if (pulled.bytes >= total) return ctl.close();
        const n = Math.min(CHUNK, total - pulled.bytes);
        pulled.bytes += n;
        ctl.enqueue(new Uint8Array(n).fill(0x20)); // spaces: valid JSON whitespace, never a value
      },
      cancel() {
        pulled.cancelled = true;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulled };
}

const postStream = (body: ReadableStream<Uint8Array>) =>
  SELF.fetch(OPS, {
    method: "POST",
    body,
    headers: { "content-type": "application/json" }, // no Content-Length: a stream has none
    duplex: "half",
  } as RequestInit);

async function expectError(res: Response, status: number, code: string) {
  const body = (await res.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(res.status).toBe(status);
}

describe("request bodies", async () => {
  const c = await TestClient.create();

  it("a body without Content-Length is refused 413 once past the limit, not read whole", async () => {
    const before = await settled();
    const { stream, pulled } = countingStream(64 * 1024 * 1024);
    await expectError(await postStream(stream), 413, "payload_too_large");
    // what the stream handed over is the limit plus what was in flight: far from the 64 MiB offered
    expect(pulled.bytes).toBeLessThan(BODY_BYTES_MAX + 64 * CHUNK);
    expect(await settled()).toEqual(before);
  });

  // A sender that hangs up before its Content-Length arrived: workerd's HTTP server fails the body's
  // read with `Error("Network connection lost.")`, `retryable: true` (seen with a raw socket against
  // workerd). `SELF.fetch` would end such a stream cleanly, so the request is handed to the edge's
  // fetch handler in this isolate, where the body's read fails the same way.
  it("a body whose read fails before its end is 400 truncated_body (not 503), and nothing changes", async () => {
    const before = await settled();
    const op = utf8(JSON.stringify(await c.sign("body/trunc", "counter", "add", { n: 1 })));
    const lost = Object.assign(new Error("Network connection lost."), { retryable: true });
    const stream = new ReadableStream<Uint8Array>({
      start(ctl) {
        ctl.enqueue(op.subarray(0, 40)); // part of a valid op, then the sender is gone
        ctl.error(lost);
      },
    });
    const req = new Request(OPS, {
      method: "POST",
      body: stream,
      headers: { "content-type": "application/json", "content-length": String(op.length) },
      duplex: "half",
    } as RequestInit);
    await expectError(await worker.fetch(req, env, createExecutionContext()), 400, "truncated_body");
    expect(await settled()).toEqual(before);
    expect((await read("body/trunc")).type).toBeNull();
  });

  it("a body starting with a UTF-8 byte-order mark is 400 malformed_json, and nothing changes", async () => {
    const before = await settled();
    const op = utf8(JSON.stringify(await c.sign("body/bom", "counter", "add", { n: 1 })));
    const body = new Uint8Array([0xef, 0xbb, 0xbf, ...op]);
    const res = await SELF.fetch(OPS, {
      method: "POST",
      body,
      headers: { "content-type": "application/json" },
    });
    await expectError(res, 400, "malformed_json");
    expect(await settled()).toEqual(before);
    expect((await read("body/bom")).type).toBeNull();
    // the same op without the mark is accepted: the mark alone was the problem
    const ok = await SELF.fetch(OPS, {
      method: "POST",
      body: op,
      headers: { "content-type": "application/json" },
    });
    expect(ok.status).toBe(200);
  });
});
