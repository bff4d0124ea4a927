import { describe, expect, it } from "vitest";
import { SEQ_WINDOW, TS_SKEW_MAX_MS, admitOp } from "../../shared/admission.js";
import { parseReplicas, resolveKey } from "../../shared/config.js";
import { generateKeyPair } from "../../shared/crypto/keys.js";
import { AspecError } from "../../shared/errors.js";
import { parseOp, signOp, verifyOp } from "../../shared/ops.js";
import { chooseReplica } from "../../workers/routing.js";

const k = await generateKeyPair();
const NOW = 1_800_000_000_000;
const op = (over: object = {}) =>
  signOp(k.secret, {
    client: k.publicKey,
    seq: 5,
    key: "k",
    type: "counter",
    op: "add",
    args: { n: 1 },
    ts: NOW,
    ...over,
  });
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    return (e as AspecError).code;
  }
  return "accepted";
};

describe("admission", () => {
  it("accepts a new op; the exact same op again is a duplicate; other content under a used id is a replay", async () => {
    const o = await op();
    expect(admitOp(o, undefined, 0, NOW)).toEqual({ kind: "new" });
    expect(admitOp(o, o, 5, NOW)).toEqual({ kind: "duplicate" });
    expect(code(() => admitOp(o, { ...o, args: { n: 2 } }, 5, NOW))).toBe("seq_replayed");
  });
  it("bounds ts and seq", async () => {
    expect(code(() => admitOp({ seq: 1, ts: NOW + TS_SKEW_MAX_MS + 1 } as never, undefined, 0, NOW))).toBe(
      "ts_out_of_range",
    );
    expect(code(() => admitOp({ seq: 1, ts: NOW - TS_SKEW_MAX_MS } as never, undefined, 0, NOW))).toBe(
      "accepted",
    );
    expect(code(() => admitOp({ seq: SEQ_WINDOW + 2, ts: NOW } as never, undefined, 1, NOW))).toBe(
      "seq_out_of_range",
    );
    expect(code(() => admitOp({ seq: 3, ts: NOW } as never, undefined, 9, NOW))).toBe("accepted"); // late, never seen: fine
  });
});

describe("parseOp", () => {
  it("accepts a valid op and its signature verifies", async () => {
    const o = parseOp(JSON.parse(JSON.stringify(await op())));
    expect(await verifyOp(o)).toBe(true);
  });
  it("maps each problem to its code", async () => {
    const o = await op();
    expect(code(() => parseOp(null))).toBe("invalid_request");
    expect(code(() => parseOp({ ...o, type: "nope" }))).toBe("unknown_type");
    expect(code(() => parseOp({ ...o, op: "__proto__" }))).toBe("unknown_op");
    expect(code(() => parseOp({ ...o, args: { n: 1, m: 2 } }))).toBe("invalid_args");
    expect(code(() => parseOp({ ...o, key: "" }))).toBe("invalid_key");
    expect(code(() => parseOp({ ...o, key: "é".repeat(200) }))).toBe("invalid_key"); // one key grammar
    expect(code(() => parseOp({ ...o, seq: 0 }))).toBe("invalid_request");
    expect(code(() => parseOp({ ...o, sig: o.sig.slice(1) }))).toBe("invalid_request");
  });
});

describe("config and routing", () => {
  const replicas = parseReplicas(
    '[{"name":"weur","region":"weur"},{"name":"enam","region":"enam"},{"name":"apac","region":"apac"}]',
  );
  it("routes by explicit name, then region, then first", () => {
    expect(chooseReplica(replicas, "apac", "EU").name).toBe("apac");
    expect(chooseReplica(replicas, undefined, "NA").name).toBe("enam");
    expect(chooseReplica(replicas, undefined, "OC").name).toBe("apac");
    expect(chooseReplica(replicas, undefined, undefined).name).toBe("weur");
    expect(code(() => chooseReplica(replicas, "mars", undefined))).toBe("unknown_replica");
  });
  it("refuses duplicate or malformed replica lists", () => {
    expect(() => parseReplicas('[{"name":"a","region":"x"},{"name":"a","region":"y"}]')).toThrow();
    expect(() => parseReplicas("[]")).toThrow();
  });
  it("dev seed only in dev", async () => {
    await expect(
      resolveKey({ environment: "production", devSeed: "s", secret: undefined }, "weur"),
    ).rejects.toMatchObject({ code: "not_configured" });
    await expect(
      resolveKey({ environment: "dev", devSeed: "s", secret: undefined }, "weur"),
    ).resolves.toHaveProperty("publicKey");
  });
});
