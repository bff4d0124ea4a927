/**
 * What the named-scenario files share: a small, fast PBFT configuration and the two verbs every
 * scenario uses (submit ops to some nodes; run ticks until a condition holds).
 */
import { opIdOf } from "../../shared/ops.js";
import type { PbftConfig } from "../../shared/pbft/config.js";
import type { World } from "./world.js";

/** Small windows and short timers, so a scenario shows view changes and checkpoints in few ticks. */
export const SCENARIO_CONFIG: Partial<PbftConfig> = {
  batchSizeMax: 1,
  checkpointIntervalSeqs: 4,
  logWindowSeqs: 8,
  requestTimeoutTicks: 40,
  viewChangeTimeoutTicks: 30,
  viewChangeTimeoutTicksMax: 240,
  relayAfterTicks: 15,
  statusIntervalTicks: 5,
  retransmitAfterTicks: 5,
  stateTransferIntervalTicks: 10,
  timeSkewMaxMs: 2_000,
};

/** Every node of the world. */
export const all = (w: World): number[] => w.nodes.map((n) => n.id);

/** Make `count` signed ops and submit each to `to`; returns their op ids. `keyOf(i)`: op i increments that key. */
export async function submitOps(
  w: World,
  count: number,
  to = all(w),
  keyOf?: (i: number) => string,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const op = await w.makeOp(keyOf?.(i));
    ids.push(opIdOf(op));
    await w.submit(op, to);
  }
  return ids;
}

/** Run ticks until `done()`; throws with the world's summary and trace after `maxTicks`. */
export async function runUntil(
  w: World,
  done: () => boolean,
  maxTicks: number,
  eachTick?: () => Promise<void>,
): Promise<number> {
  const start = w.tick;
  while (!done()) {
    if (w.tick - start > maxTicks)
      throw new Error(`not done within ${maxTicks} ticks\n${w.summary()}\n${w.traceTail(60)}`);
    await w.runTick();
    await eachTick?.();
  }
  return w.tick - start;
}
