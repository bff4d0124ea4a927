/**
 * `checkConfig` (shared/pbft/config.ts) refuses a configuration no cluster can run with: each
 * condition broken alone throws, each met at its edge passes, and the default configuration passes.
 */
import { describe, expect, it } from "vitest";
import type { ClusterConfig } from "../../../shared/certified/types.js";
import { batchBytesLimit, OP_BYTES_COUNTED_MAX } from "../../../shared/pbft/batch-bytes.js";
import { checkConfig, DEFAULT_PBFT_CONFIG, quorum, type PbftConfig } from "../../../shared/pbft/config.js";
import { CLUSTER } from "./harness.js";

const D = DEFAULT_PBFT_CONFIG;
const check =
  (over: Partial<PbftConfig>, cluster: ClusterConfig = CLUSTER) =>
  () =>
    checkConfig(cluster, { ...D, ...over });
const INVALID = /pbft: invalid configuration \(n=4, f=1\)/;

describe("checkConfig", () => {
  it("passes the default configuration, and each condition met at its edge", () => {
    expect(check({})).not.toThrow();
    for (const edge of [
      { batchSizeMax: 1 },
      { checkpointIntervalSeqs: 1, logWindowSeqs: 2 },
      { checkpointIntervalSeqs: 16, logWindowSeqs: 32 },
      { tickMs: 0.5 },
      { poolSizeMax: D.batchSizeMax },
      { stateChunkRecordsMax: 1, stateChunkRecordsPatch: 1 },
      { stateChunkRecordsPatch: D.stateChunkRecordsMax },
      { stateFetchPathsMax: 1 },
      { stateChunkBytesMax: D.bulkMessageBytesMax / 2 },
      { batchBytesMax: OP_BYTES_COUNTED_MAX },
      { partialInFlightMax: 1, batchesInFlightMax: 1 },
      { retransmitBackoffMax: 0 },
      { retransmitBackoffMax: 16 },
      { requestTimeoutTicks: 1, retransmitAfterTicks: 1 },
    ] satisfies Partial<PbftConfig>[])
      expect(check(edge), JSON.stringify(edge)).not.toThrow();
  });

  it("throws on each condition broken alone", () => {
    for (const bad of [
      { batchSizeMax: 0 },
      { checkpointIntervalSeqs: 0 },
      { checkpointIntervalSeqs: 16, logWindowSeqs: 16 }, // fewer than two checkpoints in the window
      { checkpointIntervalSeqs: 16, logWindowSeqs: 40 }, // not a multiple
      { tickMs: 0 },
      { poolSizeMax: D.batchSizeMax - 1 },
      { stateChunkRecordsMax: 0, stateChunkRecordsPatch: 0 },
      { stateChunkRecordsPatch: 0 },
      { stateChunkRecordsPatch: D.stateChunkRecordsMax + 1 },
      { stateFetchPathsMax: 0 },
      { stateChunkBytesMax: D.bulkMessageBytesMax / 2 + 1 },
      { batchBytesMax: OP_BYTES_COUNTED_MAX - 1 }, // a valid op, as batches count it, would fit in no batch
      { partialInFlightMax: 0 },
      { partialInFlightMax: 3, batchesInFlightMax: 2 },
      { retransmitBackoffMax: 17 },
      { retransmitBackoffMax: -1 },
      { requestTimeoutTicks: 0 },
      { retransmitAfterTicks: 0 },
    ] satisfies Partial<PbftConfig>[])
      expect(check(bad), JSON.stringify(bad)).toThrow(INVALID);
    expect(batchBytesLimit({ ...D, batchBytesMax: OP_BYTES_COUNTED_MAX }, 4)).toBe(OP_BYTES_COUNTED_MAX);
  });

  it("throws on a cluster that is not 3f + 1 nodes with f ≥ 1 whole", () => {
    const nodes = CLUSTER.nodes;
    expect(check({}, { ...CLUSTER, f: 0, nodes: nodes.slice(0, 1) })).toThrow(/n=1, f=0/);
    expect(check({}, { ...CLUSTER, f: 1, nodes: nodes.slice(0, 3) })).toThrow(/n=3, f=1/);
    expect(check({}, { ...CLUSTER, f: 1.5, nodes })).toThrow(/n=4, f=1.5/);
    expect(check({}, { ...CLUSTER, f: 2, nodes })).toThrow(/n=4, f=2/);
  });

  it("quorum is 2f + 1", () => {
    expect([1, 2, 3].map(quorum)).toEqual([3, 5, 7]);
  });
});
