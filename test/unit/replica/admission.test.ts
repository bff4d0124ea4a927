import { describe, expect, it } from "vitest";
import { SEQ_WINDOW, TS_SKEW_MAX_MS, admitOp } from "../../../shared/admission.js";
import { parseReplicas, resolveKey } from "../../../shared/config.js";
import { generateKeyPair } from "../../../shared/crypto/keys.js";
import { AspecError } from "../../../shared/errors.js";
import { parseOp, signOp, verifyOp } from "../../../shared/ops.js";
import { chooseReplica } from "../../../platform/routing.js";

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
/** What `f` throws (an AspecError in these tests), or "accepted". */
const thrown = (f: () => unknown): AspecError | "accepted" => {
  try {
    f();
  } catch (e) {
    return e as AspecError;
  }
  return "accepted";
};
const code = (f: () => unknown) => {
  const e = thrown(f);
  return e === "accepted" ? e : e.code;
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
  it("each refusal's body carries what a client needs to recover: the last seq seen, the replica's clock", async () => {
    const o = await op();
    const body = (f: () => unknown) => {
      const e = thrown(f);
      return e === "accepted" ? e : e.toBody();
    };
    expect(body(() => admitOp(o, { ...o, args: { n: 2 } }, 7, NOW))).toEqual({
      error: {
        code: "seq_replayed",
        message: "seq 5 was already used by this client",
        details: { lastSeq: 7 },
      },
    });
    expect(body(() => admitOp({ seq: 1, ts: NOW - TS_SKEW_MAX_MS - 1 } as never, undefined, 0, NOW))).toEqual(
      {
        error: {
          code: "ts_out_of_range",
          message: "ts is more than 300 s from the replica's clock",
          details: { replicaTime: NOW },
        },
      },
    );
    expect(body(() => admitOp({ seq: SEQ_WINDOW + 3, ts: NOW } as never, undefined, 2, NOW))).toEqual({
      error: {
        code: "seq_out_of_range",
        message: "seq jumps more than 1000000 past the last seen",
        details: { lastSeq: 2 },
      },
    });
    // the bounds themselves are in: exactly the skew, exactly the window
    expect(
      code(() => admitOp({ seq: SEQ_WINDOW + 2, ts: NOW + TS_SKEW_MAX_MS } as never, undefined, 2, NOW)),
    ).toBe("accepted");
  });
});

describe("parseOp", () => {
  it("each refusal of the schema path says what is wrong", async () => {
    const o = JSON.parse(JSON.stringify(await op())) as Record<string, unknown>;
    const refusal = (input: unknown) => {
      const e = thrown(() => parseOp(input));
      return e === "accepted" ? e : { code: e.code, message: e.message };
    };
    expect(refusal(JSON.parse(`{"__proto__":1,${JSON.stringify(o).slice(1)}`))).toEqual({
      code: "reserved_name",
      message: "the op has a member named '__proto__'",
    });
    expect(refusal({ ...o, args: JSON.parse('{"n":1,"__proto__":2}') })).toEqual({
      code: "reserved_name",
      message: "args: a member named '__proto__'",
    });
    expect(refusal({ ...o, args: { n: "a\ud800" } })).toEqual({
      code: "invalid_args",
      message: "args: a string is not Unicode text (lone surrogate)",
    });
    expect(refusal({ ...o, type: "nope" })).toEqual({ code: "unknown_type", message: "unknown type 'nope'" });
    expect(refusal({ ...o, op: "divide" })).toEqual({
      code: "unknown_op",
      message: "type 'counter' has no op 'divide'",
    });
    // a zod issue names its path
    expect(refusal({ ...o, seq: "5" })).toMatchObject({
      code: "invalid_request",
      message: expect.stringMatching(/^seq: /),
    });
  });

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
    expect(() => parseReplicas('[{"name":"a","region":"x"},{"name":"a","region":"y"}]')).toThrow(
      "duplicate replica name",
    );
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
  it("a missing key says which secret to set and how; with no secret name, what to do instead", async () => {
    const fix = "wrangler secret put REPLICA_KEY_WEUR";
    await expect(
      resolveKey(
        { environment: "production", devSeed: undefined, secret: undefined, secretName: "REPLICA_KEY_WEUR" },
        "weur",
      ),
    ).rejects.toMatchObject({
      code: "not_configured",
      message: `no signing key for 'weur': the secret REPLICA_KEY_WEUR is not set; run \`${fix}\` (a base64url 32-byte seed)`,
      details: { secret: "REPLICA_KEY_WEUR", fix },
    });
    await expect(
      resolveKey({ environment: "production", devSeed: undefined, secret: undefined }, "weur"),
    ).rejects.toMatchObject({
      code: "not_configured",
      message: "no signing key for 'weur': set the secret or run in dev",
      details: undefined,
    });
  });
});
