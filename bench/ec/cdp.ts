/**
 * A minimal Chrome DevTools Protocol client over a minimal WebSocket client (RFC 6455, text frames,
 * client-side masking, fragmentation, ping/pong, close), for the memory diagnostic (bench/ec/heap.ts).
 * Node 20 has no WebSocket without a flag, and the project takes no dependency for a bench tool.
 * Local inspector connections only (ws://, no TLS, no extensions).
 */
import { randomBytes } from "node:crypto";
import { request } from "node:http";
import type { Socket } from "node:net";

type Listener = (params: unknown) => void;

interface Pending {
  ok: (v: unknown) => void;
  fail: (e: Error) => void;
  method: string;
}

export class CdpSession {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, Set<Listener>>();
  private buf: Buffer = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  private closed = false;
  /** Events received (messages without an id) and their bytes: what a proxy had buffered shows here. */
  events = 0;
  eventBytes = 0;

  private constructor(private readonly socket: Socket) {
    socket.on("data", (d: Buffer) => this.onData(d));
    const end = (why: string) => {
      if (this.closed) return;
      this.closed = true;
      for (const p of this.pending.values())
        p.fail(new Error(`inspector connection ${why} during ${p.method}`));
      this.pending.clear();
    };
    socket.on("close", () => end("closed"));
    socket.on("error", (e) => end(`failed (${e.message})`));
  }

  /** Open a WebSocket to `url` (ws://host:port/path) and return a CDP session on it. */
  static connect(url: string, timeoutMs = 10_000): Promise<CdpSession> {
    const u = new URL(url);
    if (u.protocol !== "ws:") throw new Error(`only ws:// is supported: ${url}`);
    const key = randomBytes(16).toString("base64");
    return new Promise((ok, fail) => {
      const req = request({
        host: u.hostname,
        port: Number(u.port),
        path: u.pathname + u.search,
        headers: {
          Connection: "Upgrade",
          Upgrade: "websocket",
          "Sec-WebSocket-Key": key,
          "Sec-WebSocket-Version": "13",
        },
        timeout: timeoutMs,
      });
      req.on("upgrade", (_res, socket, head) => {
        socket.setNoDelay(true);
        socket.setTimeout(0);
        const s = new CdpSession(socket);
        if (head.length) s.onData(head);
        ok(s);
      });
      req.on("response", (res) => {
        res.resume();
        fail(new Error(`inspector ${url} answered HTTP ${res.statusCode} instead of upgrading`));
      });
      req.on("timeout", () => req.destroy(new Error(`inspector ${url}: no upgrade in ${timeoutMs} ms`)));
      req.on("error", fail);
      req.end();
    });
  }

  /** Call a CDP method; resolves with its `result`, rejects with its `error`. */
  send<T = unknown>(method: string, params: Record<string, unknown> = {}, timeoutMs = 120_000): Promise<T> {
    if (this.closed) return Promise.reject(new Error(`inspector connection closed before ${method}`));
    const id = this.nextId++;
    return new Promise<T>((ok, fail) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        fail(new Error(`${method}: no reply in ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, {
        method,
        ok: (v) => {
          clearTimeout(timer);
          ok(v as T);
        },
        fail: (e) => {
          clearTimeout(timer);
          fail(e);
        },
      });
      this.writeFrame(0x1, Buffer.from(JSON.stringify({ id, method, params }), "utf8"));
    });
  }

  /** Subscribe to a CDP event; returns the unsubscribe function. */
  on(method: string, f: Listener): () => void {
    const set = this.listeners.get(method) ?? new Set<Listener>();
    set.add(f);
    this.listeners.set(method, set);
    return () => set.delete(f);
  }

  close(): void {
    if (this.closed) return;
    try {
      this.writeFrame(0x8, Buffer.alloc(0));
    } catch {
      /* already gone */
    }
    this.socket.end();
    this.socket.destroy();
    this.closed = true;
  }

  private writeFrame(opcode: number, payload: Buffer): void {
    const mask = randomBytes(4);
    const n = payload.length;
    const head = n < 126 ? Buffer.alloc(2) : n < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
    head[0] = 0x80 | opcode;
    if (n < 126) head[1] = 0x80 | n;
    else if (n < 65536) {
      head[1] = 0x80 | 126;
      head.writeUInt16BE(n, 2);
    } else {
      head[1] = 0x80 | 127;
      head.writeBigUInt64BE(BigInt(n), 2);
    }
    const body = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) body[i] = payload[i]! ^ mask[i & 3]!;
    this.socket.write(Buffer.concat([head, mask, body]));
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0]!;
      const b1 = this.buf[1]!;
      let len = b1 & 0x7f;
      let off = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      const masked = (b1 & 0x80) !== 0;
      const maskKey = masked ? this.buf.subarray(off, off + 4) : undefined;
      if (masked) off += 4;
      if (this.buf.length < off + len) return;
      let payload = this.buf.subarray(off, off + len);
      if (maskKey) {
        payload = Buffer.from(payload);
        for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ maskKey[i & 3]!;
      }
      this.buf = this.buf.subarray(off + len);
      this.onFrame((b0 & 0x80) !== 0, b0 & 0x0f, payload);
    }
  }

  private onFrame(fin: boolean, opcode: number, payload: Buffer): void {
    if (opcode === 0x9) return this.writeFrame(0xa, payload); // ping → pong
    if (opcode === 0xa) return; // pong
    if (opcode === 0x8) {
      this.close();
      return;
    }
    if (opcode === 0x1 || opcode === 0x2 || opcode === 0x0) {
      // copy: `payload` is a view of the receive buffer, which is reused
      this.fragments.push(Buffer.from(payload));
      if (!fin) return;
      const text = Buffer.concat(this.fragments).toString("utf8");
      this.fragments = [];
      this.onMessage(text);
    }
  }

  private onMessage(text: string): void {
    const msg = JSON.parse(text) as {
      id?: number;
      method?: string;
      params?: unknown;
      result?: unknown;
      error?: { message?: string; code?: number };
    };
    if (msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (msg.error) p.fail(new Error(`${p.method}: ${msg.error.message ?? JSON.stringify(msg.error)}`));
      else p.ok(msg.result);
      return;
    }
    this.events++;
    this.eventBytes += text.length;
    if (msg.method) for (const f of this.listeners.get(msg.method) ?? []) f(msg.params);
  }
}
