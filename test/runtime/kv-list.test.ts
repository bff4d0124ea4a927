/**
 * `GET /v1/kv?prefix=&cursor=&limit=` in workerd: pages in byte order, every key once, stable under
 * writes between pages, signed like every reply, certified values as of the certificate, bad input.
 */
import { SELF } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { verifyListReply } from "../../client/verify.js";
import { compareKeys, encodeCursor, LIST_LIMIT_MAX } from "../../shared/kv-list.js";
import type { SignedOp } from "../../shared/ops.js";
import type { BatchReply, ListReply, CertifiedReadReply } from "../../shared/replies.js";
import { deliverCertified, TestCluster } from "./cert-helpers.js";
import { TestClient } from "./helpers.js";

async function pins(): Promise<Map<string, string>> {
  const r = (await (await SELF.fetch("https://edge.test/v1/replicas")).json()) as {
    replicas: { name: string; publicKey: string }[];
  };
  return new Map(r.replicas.map((x) => [x.name, x.publicKey]));
}

async function batch(ops: SignedOp[], replica = "weur"): Promise<BatchReply> {
  const res = await SELF.fetch(`https://edge.test/v1/ops/batch?replica=${replica}`, {
    method: "POST",
    body: JSON.stringify({ ops }),
    headers: { "content-type": "application/json" },
  });
  expect(res.status).toBe(200);
  return res.json();
}

const listUrl = (q: Record<string, string>, replica = "weur") =>
  `https://edge.test/v1/kv?${new URLSearchParams({ ...q, replica })}`;

/** One page, its signature and shape checked as the SDK checks them. */
async function page(prefix: string, cursor: string | undefined, limit: number): Promise<ListReply> {
  const q: Record<string, string> = { prefix, limit: String(limit) };
  if (cursor !== undefined) q.cursor = cursor;
  const res = await SELF.fetch(listUrl(q));
  expect(res.status).toBe(200);
  return verifyListReply(await res.json(), { replica: "weur", prefix, cursor, limit }, await pins());
}

/** Write `keys` as counters (add 1 each), in batches of 100. */
async function writeKeys(c: TestClient, keys: string[]): Promise<SignedOp[]> {
  const all: SignedOp[] = [];
  for (let i = 0; i < keys.length; i += 100) {
    const ops = await Promise.all(keys.slice(i, i + 100).map((k) => c.sign(k, "counter", "add", { n: 1 })));
    const r = await batch(ops);
    expect(r.results.every((x) => "kind" in x && x.kind === "op")).toBe(true);
    all.push(...ops);
  }
  return all;
}

describe("GET /v1/kv: list keys by prefix", () => {
  it("leaves deleted keys out, whatever their type", async () => {
    const c = await TestClient.create();
    await writeKeys(c, ["ld/a", "ld/b", "ld/c", "ld/d"]);
    const del = await Promise.all(["ld/b", "ld/c"].map((k) => c.sign(k, "counter", "delete", {})));
    await batch(del);
    const p = await page("ld/", undefined, 10);
    expect(p.entries.map((e) => e.key)).toEqual(["ld/a", "ld/d"]);
    expect(p.cursor).toBeNull();
  });

  it("lists 1,000 keys in pages of 100: every key once, in byte order", async () => {
    const c = await TestClient.create();
    const keys = Array.from({ length: 1000 }, (_, i) => `l1/${String(i).padStart(4, "0")}`);
    await writeKeys(c, [...keys, "l0/outside", "l2/outside"]);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const p = await page("l1/", cursor, 100);
      seen.push(...p.entries.map((e) => e.key));
      for (const e of p.entries)
        expect(e).toEqual({ key: e.key, type: "counter", value: 1, certified: null });
      pages++;
      cursor = p.cursor ?? undefined;
    } while (cursor !== undefined);
    expect(pages).toBe(10);
    expect(seen).toEqual(keys);
  });

  it("orders keys by their UTF-8 bytes, not by JavaScript's string order", async () => {
    const c = await TestClient.create();
    const keys = ["bo/\u{1F600}", "bo/\uFF01", "bo/z", "bo/é", "bo/Z"];
    await writeKeys(c, keys);
    const listed = (await page("bo/", undefined, 10)).entries.map((e) => e.key);
    expect(listed).toEqual([...keys].sort(compareKeys));
    expect(listed).toEqual(["bo/Z", "bo/z", "bo/é", "bo/\uFF01", "bo/\u{1F600}"]);
  });

  it("writes between pages: keys present throughout are listed once, new keys only past the cursor", async () => {
    const c = await TestClient.create();
    const keys = Array.from({ length: 30 }, (_, i) => `lw/${String(i * 2).padStart(3, "0")}`);
    await writeKeys(c, keys);
    const seen: string[] = [];
    let cursor: string | undefined;
    let round = 0;
    do {
      const p = await page("lw/", cursor, 7);
      seen.push(...p.entries.map((e) => e.key));
      cursor = p.cursor ?? undefined;
      // between pages: a key behind the cursor, one ahead of it, and every listed key written again
      round++;
      await writeKeys(c, [
        `lw/${String(round * 8 - 1).padStart(3, "0")}a`,
        `lw/${String(round).padStart(3, "0")}b`,
      ]);
      await writeKeys(c, keys.slice(0, 10));
    } while (cursor !== undefined);
    const old = seen.filter((k) => keys.includes(k));
    expect(old).toEqual(keys); // each present key once, in order
    expect([...seen].sort(compareKeys)).toEqual(seen); // the whole listing ascends
    expect(new Set(seen).size).toBe(seen.length);
  });

  it("each entry carries its certified value and seq, the same the key's certified read proves", async () => {
    const c = await TestClient.create();
    const ops = await writeKeys(c, ["lc/a", "lc/b"]);
    const cluster = await TestCluster.create();
    const made = await cluster.certify([ops[0]!]);
    await deliverCertified([made.message]);
    const p = await page("lc/", undefined, 10);
    expect(p.certificate?.body.seq).toBe(made.body.seq);
    expect(p.entries).toEqual([
      { key: "lc/a", type: "counter", value: 1, certified: { seq: made.body.seq, value: 1 } },
      { key: "lc/b", type: "counter", value: 1, certified: null },
    ]);
    const proven = (await (
      await SELF.fetch(`https://edge.test/v1/kv/lc%2Fa?view=certified&replica=weur`)
    ).json()) as CertifiedReadReply;
    expect(proven.certified.seq).toBe(made.body.seq);
    expect(proven.certified.value?.value).toBe(1);
  });

  it("the empty prefix lists from the first key; a listing past the last key is empty", async () => {
    const c = await TestClient.create();
    await writeKeys(c, ["~~~last"]);
    const first = await page("", undefined, 1);
    expect(first.entries.length).toBe(1);
    expect(first.cursor).not.toBeNull();
    const after = await page("", encodeCursor("~~~last"), 5);
    expect(after.entries).toEqual([]);
    expect(after.cursor).toBeNull();
  });

  it.each([
    ["a prefix with a control character", "prefix=a%01"],
    ["a prefix that is not UTF-8", "prefix=%FF"],
    ["a prefix longer than a key", `prefix=${"x".repeat(257)}`],
    ["a prefix given twice", "prefix=a&prefix=b"],
    ["a cursor that is not base64url", "cursor=!!"],
    ["a cursor that is not UTF-8", `cursor=${encodeURIComponent("_w")}`],
    ["a cursor outside the prefix", `prefix=a&cursor=${encodeCursor("b")}`],
    ["limit 0", "limit=0"],
    ["limit over the maximum", `limit=${LIST_LIMIT_MAX + 1}`],
    ["a limit that is not a number", "limit=ten"],
    ["a limit with a leading zero", "limit=010"],
  ])("%s is 400 invalid_request", async (_what, query) => {
    const res = await SELF.fetch(`https://edge.test/v1/kv?${query}&replica=weur`);
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("invalid_request");
  });

  it("a percent-encoded path is no listing (404), and POST is 405", async () => {
    expect((await SELF.fetch("https://edge.test/v1/%6Bv?prefix=a")).status).toBe(404);
    const post = await SELF.fetch("https://edge.test/v1/kv", { method: "POST" });
    expect([post.status, post.headers.get("allow")]).toEqual([405, "GET, HEAD, OPTIONS"]);
  });
});
