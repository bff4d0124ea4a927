/**
 * The hosts' one step shape (shared/host/step.ts): the core's step and the rows it hands back in
 * one transaction, nothing kept of a step that throws, and `persisted` stopping the host after the
 * commit (a crash between persist and send).
 */
import { describe, expect, it } from "vitest";
import { runStep, type StepStorage } from "../../../shared/host/step.js";

/** A storage whose transaction keeps its writes only if the body returns. */
function memory() {
  let rows: string[] = [];
  const storage: StepStorage<string> & { rows: () => string[] } = {
    transaction<T>(body: () => T): T {
      const saved = [...rows];
      try {
        return body();
      } catch (e) {
        rows = saved;
        throw e;
      }
    },
    write: (r) => void rows.push(...r),
    rows: () => rows,
  };
  return { storage, store: (x: string) => rows.push(x) };
}

describe("runStep: the hosts' one step shape", () => {
  it("writes the step's own store writes and its rows in one transaction, then returns its effects", () => {
    const { storage, store } = memory();
    const r = runStep(storage, () => (store("state"), { persist: ["row"] }), { rowsOf: (fx) => fx.persist });
    expect(r).toEqual({ effects: { persist: ["row"] }, stopped: false });
    expect(storage.rows()).toEqual(["state", "row"]);
  });

  it("keeps nothing of a step that throws", () => {
    const { storage, store } = memory();
    expect(() =>
      runStep(storage, () => {
        store("half");
        throw new Error("power cut");
      }),
    ).toThrow("power cut");
    expect(storage.rows()).toEqual([]);
  });

  it("a persisted hook returning false stops the host after the commit, with the input it saw", () => {
    const { storage, store } = memory();
    const seen: unknown[] = [];
    const r = runStep(storage, () => (store("kept"), 7), {
      input: "tick",
      hooks: { beforeStep: (i) => seen.push(i), persisted: (i, fx) => (seen.push([i, fx]), false) },
    });
    expect(r.stopped).toBe(true);
    expect(seen).toEqual(["tick", ["tick", 7]]);
    expect(storage.rows()).toEqual(["kept"]);
  });
});
