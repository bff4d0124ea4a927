// The two program entry points, loaded as a program would load them (process.argv set, the module
// evaluated fresh): `aspec ARGS` must act on ARGS (not on node's own argv), print whole lines on
// stdout / stderr, set the exit code, and run once. Importing client/cli.ts from elsewhere runs nothing.
import { fileURLToPath } from "node:url";
import { describe, expect, it, vi } from "vitest";
import { COMMAND_HELP } from "../../../../client/cli/help.js";

const CLI = fileURLToPath(new URL("../../../../client/cli.ts", import.meta.url));

/** Load `entry` fresh with `process.argv = [node, argv1, ...args]`; what it wrote and its exit code. */
async function asProgram(argv1: string, args: string[], entry: "bin" | "cli") {
  const saved = {
    argv: process.argv,
    exitCode: process.exitCode,
    out: process.stdout.write,
    err: process.stderr.write,
  };
  const out: string[] = [];
  const err: string[] = [];
  process.argv = [process.execPath, argv1, ...args];
  process.exitCode = undefined;
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    vi.resetModules();
    if (entry === "bin") await import("../../../../client/bin/main.js");
    else await import("../../../../client/cli.js");
    return { exitCode: process.exitCode, out: out.join(""), err: err.join("") };
  } finally {
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.argv = saved.argv;
    process.exitCode = saved.exitCode;
  }
}

describe("the aspec program", () => {
  it("client/bin/main.ts acts on the arguments after the script, once, with newline-ended output", async () => {
    expect(await asProgram("/nonexistent/bin/aspec", ["counter", "--help"], "bin")).toEqual({
      exitCode: 0,
      out: `${COMMAND_HELP.counter}\n`,
      err: "",
    });
  });

  it("a usage error goes to stderr as lines, with exit code 2", async () => {
    expect(await asProgram("/nonexistent/bin/aspec", ["frobnicate"], "bin")).toEqual({
      exitCode: 2,
      out: "",
      err: "aspec: unknown command 'frobnicate'\ntry 'aspec --help'\n",
    });
  });

  it("client/cli.ts run directly (tsx client/cli.ts ARGS) acts on its arguments", async () => {
    expect(await asProgram(CLI, ["counter", "--help"], "cli")).toEqual({
      exitCode: 0,
      out: `${COMMAND_HELP.counter}\n`,
      err: "",
    });
  });

  it("client/cli.ts imported by another program runs nothing", async () => {
    const self = fileURLToPath(import.meta.url);
    for (const argv1 of [self, "/nonexistent/other-program"])
      expect(await asProgram(argv1, ["counter", "--help"], "cli")).toEqual({
        exitCode: undefined,
        out: "",
        err: "",
      });
  });
});

describe("per-command help, as the program loads it", () => {
  // help.ts builds its texts when it is loaded: load it fresh, as a new `aspec` process does.
  it("each command's help starts with its form, says what it does and gives a working example", async () => {
    vi.resetModules();
    const { COMMAND_HELP: help } = await import("../../../../client/cli/help.js");
    const expected: [string, string, string, string][] = [
      ["keygen", "usage: aspec keygen [--out FILE]", "A new Ed25519 key", "aspec keygen --out ./key.json"],
      ["counter", "usage: aspec counter add KEY N", "Add the integer N", "aspec counter add hits 1"],
      [
        "register",
        "usage: aspec register set KEY JSON | register cas KEY EXPECTED JSON",
        "Set the register KEY",
        `aspec register set title '"hi"' && aspec register cas title '"hi"' '"hello"'`,
      ],
      ["set", "usage: aspec set add|remove KEY X", "Add or remove the string X", "aspec set add tags x"],
      [
        "account",
        "usage: aspec account deposit|withdraw KEY N",
        "Deposit or withdraw",
        "aspec account deposit alice 10",
      ],
      ["get", "usage: aspec get KEY", "Read KEY at the home replica", "aspec get hits"],
      ["replicas", "usage: aspec replicas [--endpoint URL] [--json]", "List the replicas", ""],
      [
        "cluster",
        "usage: aspec cluster [--endpoint URL] [--replica NAME] [--json]",
        "The PBFT cluster",
        "aspec cluster --json",
      ],
      [
        "verify",
        "usage: aspec verify OPID [--endpoint URL] [--replica NAME] [--json]",
        "Fetch the op's certified result",
        "aspec verify <client key>:7",
      ],
      [
        "watch",
        "usage: aspec watch KEY [--interval MS] [--count N] [--endpoint URL] [--replica NAME] [--json]",
        "Read KEY every MS ms",
        "aspec watch hits --interval 500",
      ],
    ];
    for (const [cmd, form, what, example] of expected) {
      const text = help[cmd]!;
      expect(text.split("\n")[0], cmd).toBe(form);
      expect(text, cmd).toContain(what);
      if (example) expect(text, cmd).toContain(`example: ${example}`);
    }
  });
});
