/**
 * What one driver step comes to (shared/pbft/driver.ts, `StepReport`): the input's step and the
 * steps of what the node sent itself; and a crash (`persisted` → false) inside a looped-back step
 * stops the driver there, reported, without a throw.
 */
import { describe, expect, it } from "vitest";
import { MerkleStateMachine } from "../../../shared/certified/state-machine.js";
import type { Json } from "../../../shared/canonical.js";
import { applyRows, PbftDriver, type DriverHooks } from "../../../shared/pbft/driver.js";
import type { Envelope } from "../../../shared/pbft/messages.js";
import { PbftReplica, type Input } from "../../../shared/pbft/replica.js";
import { CLUSTER, UNIT_CONFIG, makeOp, unsignedSigner } from "./harness.js";

/** The view-0 primary (node 0) as a driver; what it sends others is recorded. */
function primary(hooks: DriverHooks = {}) {
  const rows = new Map<string, Json>();
  const sent: { to: number; env: Envelope }[] = [];
  const replica = new PbftReplica({
    cluster: CLUSTER,
    me: 0,
    config: UNIT_CONFIG,
    sm: new MerkleStateMachine(),
  });
  const driver = new PbftDriver(replica, {
    storage: {
      transaction: (body) => body(),
      write: (ops) => applyRows(rows, ops),
      readRows: () => [...rows],
    },
    signer: unsignedSigner(0),
    transport: { send: (to, envs) => void envs.forEach((env) => sent.push({ to, env })) },
    publish: () => {},
    hooks,
  });
  return { driver, sent };
}

describe("a driver step", () => {
  it("runs the input's step, then the PREPARE and PRE-PREPARE the primary sent itself", () => {
    const inputs: string[] = [];
    const { driver } = primary({
      persisted: (input) =>
        void inputs.push(input?.kind === "message" ? input.envelope.msg.type : input!.kind),
    });
    const report = driver.stepSync({ kind: "submit", op: makeOp(1) });
    expect(inputs).toEqual(["submit", "prepare", "pre-prepare"]); // in the order sent
    expect(report.steps).toBe(3);
    expect(report.stopped).toBe(false);
    expect(report.effects.send.map((o) => o.msg?.type).sort()).toEqual(["pre-prepare", "prepare"]);
  });

  it("a crash in a looped-back step stops the driver there: reported, nothing of that step sent", () => {
    const inputs: (Input | null)[] = [];
    const { driver, sent } = primary({
      persisted: (input) => {
        inputs.push(input);
        return input?.kind !== "message";
      },
    });
    const report = driver.stepSync({ kind: "submit", op: makeOp(1) });
    expect(inputs.map((i) => i?.kind)).toEqual(["submit", "message"]);
    expect(report.steps).toBe(2); // the second looped-back envelope is not stepped
    expect(report.stopped).toBe(true);
    expect(report.wakeAtMs).toBe(report.effects.wakeAtMs); // the first step's, not the crashed one's
    // what the first step sent the three others went out; nothing after it
    expect(sent).toHaveLength(6);
    expect(() => driver.stepSync({ kind: "tick", nowMs: 1_000 })).toThrow(/stopped/);
  });
});
