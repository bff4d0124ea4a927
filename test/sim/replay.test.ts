/**
 * Replay must replay: the command a failure prints (from the vitest sweep or a CLI range) runs the
 * same plan again — same profile, same modes — and fails the same way. The failure is planted
 * (`--plant-at-seq`: a conflicting body fed to the checker once that seq is certified), so the
 * test does not depend on the core having a bug.
 */
import { describe, expect, it } from "vitest";
import { simMain } from "./entry.js";
import { formatFailure, planFor, runSeed } from "./run.js";

/** The arguments after `npm run sim --` in a failure's replay line. */
function replayArgs(text: string): string[] {
  const m = /replay: npm run sim -- (.+?) {3}\(add --trace/.exec(text);
  if (!m) throw new Error(`no replay command in:\n${text.slice(0, 400)}`);
  return m[1]!.split(" ");
}

/** What identifies a failure: its error and the cluster's state when it struck. */
function failureOf(text: string): string {
  const m = /\nerror: ([\s\S]*?)\nstate:\n([\s\S]*?)\ntrace \(last lines\)/.exec(text);
  if (!m) throw new Error(`no failure in:\n${text.slice(0, 400)}`);
  // The stack's frames name the caller (a range or one seed); the message and the state must match.
  const message = m[1]!
    .split("\n")
    .filter((l) => !/^\s+at /.test(l))
    .join("\n");
  return `${message}\n${m[2]}`;
}

async function run(args: readonly string[]): Promise<{ code: number; text: string }> {
  const lines: string[] = [];
  const code = await simMain(args, (l) => lines.push(l));
  return { code, text: lines.join("\n") };
}

describe("simulator replay commands", () => {
  it("a sweep failure's printed command (quick profile) reproduces it exactly", async () => {
    const r = await runSeed(7, { profile: "quick", plantAtSeq: 3 });
    expect(r.ok).toBe(false);
    expect(r.failure).toBe("safety");
    const printed = formatFailure(r);
    const args = replayArgs(printed);
    expect(args).toEqual(["--seed", "7", "--quick", "--plant-at-seq", "3"]);
    const again = await run(args);
    expect(again.code).toBe(1);
    expect(failureOf(again.text)).toBe(failureOf(printed));
    expect(failureOf(printed)).toContain("executed seq 3 differently");
  }, 60_000);

  it("a CLI range failure's printed command carries its modes and reproduces it", async () => {
    const first = await run([
      "--from",
      "5",
      "--seeds",
      "2",
      "--quick",
      "--modes",
      "crash,equivocate,loss",
      "--plant-at-seq",
      "2",
    ]);
    expect(first.code).toBe(1);
    const failure = first.text.split(/\n(?=SEED )/).find((t) => t.startsWith("SEED 5 "))!;
    const args = replayArgs(failure);
    expect(args).toEqual([
      "--seed",
      "5",
      "--quick",
      "--modes",
      "equivocate,loss,crash",
      "--plant-at-seq",
      "2",
    ]);
    const again = await run(args);
    expect(again.code).toBe(1);
    expect(failureOf(again.text)).toBe(failureOf(failure));
  }, 60_000);

  it("the profile and the modes are part of the plan (a command without them runs another one)", () => {
    const quick = planFor(7, { profile: "quick" });
    expect(planFor(7, { profile: "full" })).not.toEqual({ ...quick, profile: "full" });
    expect(planFor(5, { profile: "quick", modes: ["crash", "equivocate", "loss"] }).modes).not.toEqual(
      planFor(5, { profile: "quick" }).modes,
    );
  });

  it("--help prints the usage, an unknown mode is refused with it", async () => {
    const help = await run(["--help"]);
    expect(help.code).toBe(0);
    expect(help.text).toContain("--modes a,b,c");
    const bad = await run(["--modes", "no-such-mode"]);
    expect(bad.code).toBe(2);
    expect(bad.text).toContain("unknown mode(s): no-such-mode");
  });
});
