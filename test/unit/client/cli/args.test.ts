// `aspec` argument parsing, as a user who mistypes sees it: every usage error says what was wrong
// and the right form; numbers are plain decimal integers (no 1e3, +5, 0x10, nor past 2^53); the
// defaults hold when an option is left out.
import { describe, expect, it } from "vitest";
import { parseCli, UsageError } from "../../../../client/cli/args.js";

const env = { ASPEC_KEY_FILE: "/k.json" };
const OP_ID = `${"A".repeat(43)}:7`;

function usageError(argv: string[]): UsageError {
  try {
    parseCli(argv, env);
  } catch (e) {
    if (e instanceof UsageError) return e;
    throw e;
  }
  throw new Error(`no usage error for ${argv.join(" ")}`);
}

describe("usage errors say what is wrong and the right form", () => {
  it.each([
    [[], "no command"],
    [["keygen", "x"], "usage: aspec keygen [--out FILE]"],
    [["replicas", "x"], "usage: aspec replicas"],
    [["cluster", "x"], "usage: aspec cluster"],
    [["verify"], "usage: aspec verify OPID"],
    [["verify", "nope"], "not an op id: 'nope' (it is <client public key>:<seq>)"],
    [["watch"], "usage: aspec watch KEY [--interval MS] [--count N]"],
    [["get"], "usage: aspec get KEY"],
    [["counter", "add", "k"], "usage: aspec counter add KEY N"],
    [["counter", "sub", "k", "1"], "counter has no op 'sub' (add)"],
    [["register", "set", "k"], "usage: aspec register set KEY JSON"],
    [["register", "set", "k", "hi"], `not JSON: 'hi' (a string needs quotes: '"hi"')`],
    [["register", "cas", "k", "null"], "usage: aspec register cas KEY EXPECTED JSON"],
    [["register", "cas", "k", "old", "1"], `not JSON: 'old' (a string needs quotes: '"hi"')`],
    [["set", "add", "k"], "usage: aspec set add|remove KEY X"],
    [["set", "toggle", "k", "x"], "set has no op 'toggle' (add, remove)"],
    [["account", "deposit", "k"], "usage: aspec account deposit|withdraw KEY N"],
    [["account", "steal", "k", "1"], "account has no op 'steal' (deposit, withdraw)"],
    [["counter", "add", "k", "x"], "N must be an integer, got 'x'"],
    [["watch", "k", "--interval", "0"], "--interval must be ≥ 1, got '0'"],
    [["watch", "k", "--count", "-2"], "--count must be ≥ 1, got '-2'"],
    [["get", "k", "--out", "f"], "--out is only for keygen"],
    [["get", "k", "--interval", "5"], "--interval and --count are only for watch"],
    [["get", "k", "--count", "5"], "--interval and --count are only for watch"],
    [["account", "deposit", "k", "x"], "N must be an integer, got 'x'"],
    [["evidence", "send", "f"], "usage: aspec evidence submit FILE"],
    [["frobnicate"], "unknown command 'frobnicate'"],
  ])("%j → %s", (argv, message) => {
    const e = usageError(argv as string[]);
    expect(e.message).toBe(message);
    expect(String(e)).toBe(`UsageError: ${message}`); // how a caller logging it sees it
  });
});

describe("ops", () => {
  it("each type's ops parse to that op on that key", () => {
    const op = (argv: string[]) => parseCli(argv, env).command;
    expect(op(["counter", "add", "k", "2"])).toEqual({
      kind: "op",
      key: "k",
      type: "counter",
      op: "add",
      args: { n: 2 },
    });
    expect(op(["register", "set", "k", "[1]"])).toEqual({
      kind: "op",
      key: "k",
      type: "register",
      op: "set",
      args: { v: [1] },
    });
    expect(op(["register", "cas", "k", "null", '{"rev":1}'])).toEqual({
      kind: "op",
      key: "k",
      type: "register",
      op: "cas",
      args: { expected: null, v: { rev: 1 } },
    });
    for (const sub of ["add", "remove"])
      expect(op(["set", sub, "k", "x"])).toEqual({
        kind: "op",
        key: "k",
        type: "set",
        op: sub,
        args: { x: "x" },
      });
    for (const sub of ["deposit", "withdraw"])
      expect(op(["account", sub, "k", "3"])).toEqual({
        kind: "op",
        key: "k",
        type: "account",
        op: sub,
        args: { n: 3 },
      });
  });
});

describe("numbers", () => {
  it("refuse what is not a plain decimal integer, or is past the exactly representable range", () => {
    for (const n of ["1e3", "+5", "0x10", "5x", "1.0", " 5", "99999999999999999999"])
      expect(usageError(["counter", "add", "k", n]).message, n).toBe(`N must be an integer, got '${n}'`);
    expect(parseCli(["counter", "add", "k", "-9007199254740991"], env).command).toMatchObject({
      args: { n: -9007199254740991 },
    });
  });
});

describe("options", () => {
  it("watch reads every second unless told otherwise, with no count limit", () => {
    expect(parseCli(["watch", "k"], env).command).toEqual({
      kind: "watch",
      key: "k",
      intervalMs: 1000,
      count: undefined,
    });
  });

  it("take --name=value forms, whatever the value holds", () => {
    const inv = parseCli(["get", "k", "--replica=eu-1", "--endpoint=http://127.0.0.1:9"], env);
    expect(inv).toMatchObject({ replica: "eu-1", endpoint: "http://127.0.0.1:9" });
    expect(parseCli(["verify", OP_ID, "--replica", "-1"], env)).toMatchObject({ replica: "-1" });
  });
});

describe("parseCli: each command and where options come from", () => {
  const env = { ASPEC_KEY_FILE: "/k.json" };
  it("parses each command", () => {
    expect(parseCli(["counter", "add", "hits", "3"], env).command).toEqual({
      kind: "op",
      key: "hits",
      type: "counter",
      op: "add",
      args: { n: 3 },
    });
    expect(parseCli(["counter", "add", "hits", "-3"], env).command).toMatchObject({ args: { n: -3 } });
    expect(parseCli(["register", "set", "t", '{"a":[1,"x"]}'], env).command).toMatchObject({
      args: { v: { a: [1, "x"] } },
    });
    expect(parseCli(["register", "set", "t", '"hi"'], env).command).toMatchObject({ args: { v: "hi" } });
    expect(parseCli(["set", "remove", "tags", "x"], env).command).toMatchObject({
      type: "set",
      op: "remove",
      args: { x: "x" },
    });
    expect(parseCli(["account", "withdraw", "alice", "5"], env).command).toMatchObject({
      op: "withdraw",
      args: { n: 5 },
    });
    expect(parseCli(["get", "a b/c"], env).command).toEqual({ kind: "get", key: "a b/c" });
    expect(parseCli(["replicas"], env).command).toEqual({ kind: "replicas" });
    expect(parseCli(["keygen", "--out", "/tmp/k"], env).command).toEqual({ kind: "keygen", out: "/tmp/k" });
    expect(parseCli(["keygen"], env).command).toEqual({ kind: "keygen", out: undefined });
    expect(parseCli(["--help"], env).command).toEqual({ kind: "help" });
    expect(parseCli(["get", "-h"], env).command).toEqual({ kind: "help", topic: "get" });
  });

  it("takes options from flags, then env, then defaults", () => {
    const a = parseCli(
      ["get", "k", "--endpoint", "http://127.0.0.1:9", "--replica", "enam", "--key-file", "/f", "--json"],
      env,
    );
    expect(a).toMatchObject({ endpoint: "http://127.0.0.1:9", replica: "enam", keyFile: "/f", json: true });
    const b = parseCli(["get", "k"], { ASPEC_ENDPOINT: "http://127.0.0.1:7" });
    expect(b).toMatchObject({ endpoint: "http://127.0.0.1:7", replica: undefined, json: false });
    expect(b.keyFile).toMatch(/\.config\/aspec\/key\.json$/);
    expect(parseCli(["get", "k"], {}).endpoint).toBe("http://127.0.0.1:8787");
  });

  it("throws UsageError for bad usage", () => {
    const bad = [
      [],
      ["nope"],
      ["counter", "add", "k"],
      ["counter", "add", "k", "1.5"],
      ["counter", "add", "k", "x"],
      ["counter", "sub", "k", "1"],
      ["register", "set", "k", "hi"],
      ["set", "toggle", "k", "x"],
      ["account", "steal", "k", "1"],
      ["get"],
      ["get", "a", "b"],
      ["replicas", "x"],
      ["get", "k", "--bogus"],
      ["get", "k", "--endpoint"],
      ["get", "k", "--out", "f"],
    ];
    for (const argv of bad) expect(() => parseCli(argv, env), argv.join(" ")).toThrow(UsageError);
  });
});
