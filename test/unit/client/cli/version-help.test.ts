// `aspec --version`, per-command `--help`, and local usage errors (exit 2), through the CLI's main().
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { main, type CliIo } from "../../../../client/cli.js";

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = { out: (l) => out.push(l), err: (l) => err.push(l), env: {} };
  return { code: await main(argv, io), out: out.join("\n"), err: err.join("\n") };
}

const version = (
  JSON.parse(readFileSync(new URL("../../../../package.json", import.meta.url), "utf8")) as {
    version: string;
  }
).version;

describe("aspec", () => {
  it("--version prints package.json's version", async () => {
    expect(await run(["--version"])).toEqual({ code: 0, out: version, err: "" });
  });

  it.each([
    ["counter", "usage: aspec counter add KEY N"],
    ["register", "usage: aspec register set KEY JSON | register cas KEY EXPECTED JSON"],
    ["set", "usage: aspec set add|remove KEY X"],
    ["account", "usage: aspec account deposit|withdraw KEY N"],
    ["get", "usage: aspec get KEY"],
    ["replicas", "usage: aspec replicas [--endpoint URL] [--json]"],
    ["keygen", "usage: aspec keygen [--out FILE]"],
  ])("%s --help prints that command's usage", async (cmd, first) => {
    const r = await run([cmd, "--help"]);
    expect(r.code).toBe(0);
    expect(r.out.split("\n")[0]).toBe(first);
    expect(r.out).not.toContain("commands:"); // not the overview
  });

  it("--help alone, or with an unknown command, prints the overview", async () => {
    for (const argv of [["--help"], ["-h"], ["nope", "--help"]]) {
      const r = await run(argv);
      expect([r.code, r.out.split("\n")[0]]).toEqual([0, "usage: aspec <command> [options]"]);
    }
  });

  it.each([[[]], [["counter", "add", "k"]], [["counter", "add", "k", "x"]], [["--bogus"]], [["frobnicate"]]])(
    "usage error %j exits 2 without contacting anything",
    async (argv) => {
      const r = await run(argv as string[]);
      expect(r.code).toBe(2);
      expect(r.out).toBe("");
      expect(r.err).toMatch(/^aspec: /);
    },
  );
});
