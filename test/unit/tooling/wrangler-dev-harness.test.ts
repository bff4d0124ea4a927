// The wrangler dev harness: wrangler runs at the level that lets the Worker's own console.log
// through (it prints workerd's structured "log" lines one level below "info"), and its reloads of
// the Worker (each answers the writes in flight 503) are counted from its output.
import { describe, expect, it } from "vitest";
import { reloadsIn, wranglerArgs } from "../../support/wrangler-dev.js";

const levelOf = (args: string[]) => args[args.indexOf("--log-level") + 1];

describe("wranglerArgs", () => {
  it("runs wrangler at 'log' whatever is kept, so the Worker's console.log lines come through", () => {
    for (const logLevel of [undefined, "warn", "info", "log", "error", "none"] as const)
      expect(
        levelOf(wranglerArgs({ name: "t", readyPath: "/", ...(logLevel ? { logLevel } : {}) }, "/tmp/x")),
      ).toBe("log");
  });
  it("runs it at 'debug' when asked", () => {
    expect(levelOf(wranglerArgs({ name: "t", readyPath: "/", logLevel: "debug" }, "/tmp/x"))).toBe("debug");
  });
  it("keeps state in the given persist dir, outside the watched sources", () => {
    const args = wranglerArgs({ name: "t", readyPath: "/" }, "/tmp/aspec-t-1");
    expect(args[args.indexOf("--persist-to") + 1]).toBe("/tmp/aspec-t-1");
  });
});

describe("reloadsIn", () => {
  it("counts wrangler's reload lines", () => {
    const out = [
      "⎔ Starting local server...",
      "[wrangler:info] Ready on http://127.0.0.1:4000",
      "⎔ Reloading local server...",
      "⎔ Local server updated and ready",
      "⎔ Reloading local server...",
    ].join("\n");
    expect(reloadsIn(out)).toBe(2);
    expect(reloadsIn("⎔ Starting local server...")).toBe(0);
  });
});
