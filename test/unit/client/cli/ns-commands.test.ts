// `aspec ns claim|grant|revoke|show`: each parses to the namespace op on (or the read of) `@NS`; a
// public key starting with "-" is a value, not an option; mistakes say the right form.
import { describe, expect, it } from "vitest";
import { parseCli, UsageError } from "../../../../client/cli/args.js";

const env = { ASPEC_KEY_FILE: "/k.json" };
const KEY = "-" + "k".repeat(42);
const cmd = (argv: string[]) => parseCli(argv, env).command;

describe("aspec ns", () => {
  it("claim, grant, revoke are namespace ops on @NS; show reads @NS", () => {
    expect(cmd(["ns", "claim", "wallet"])).toEqual({
      kind: "op",
      key: "@wallet",
      type: "namespace",
      op: "claim",
      args: {},
    });
    expect(cmd(["ns", "grant", "wallet", KEY, "account.deposit"])).toEqual({
      kind: "op",
      key: "@wallet",
      type: "namespace",
      op: "grant",
      args: { publicKey: KEY, role: "account.deposit" },
    });
    expect(cmd(["ns", "grant", "wallet", "*", "writer", "--json"])).toMatchObject({
      args: { publicKey: "*" },
    });
    expect(cmd(["ns", "revoke", "wallet", KEY])).toEqual({
      kind: "op",
      key: "@wallet",
      type: "namespace",
      op: "revoke",
      args: { publicKey: KEY },
    });
    expect(cmd(["ns", "show", "wallet"])).toEqual({ kind: "get", key: "@wallet" });
  });

  it.each([
    [["ns"], "ns has no subcommand '' (claim, grant, revoke, show)"],
    [["ns", "own", "w"], "ns has no subcommand 'own' (claim, grant, revoke, show)"],
    [["ns", "claim"], "usage: aspec ns claim NS"],
    [["ns", "grant", "w", KEY], "usage: aspec ns grant NS PUBLICKEY ROLE"],
    [["ns", "revoke", "w"], "usage: aspec ns revoke NS PUBLICKEY"],
    [["ns", "show", "w", "x"], "usage: aspec ns show NS"],
  ])("%j → %s", (argv, message) => {
    expect(() => cmd(argv as string[])).toThrow(new UsageError(message));
  });
});
