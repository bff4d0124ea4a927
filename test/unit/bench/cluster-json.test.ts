// bench:cluster's JSON: every field the targets name is there, derived from the run's
// figures, null where the run did not measure it; the JSON's path beside the Markdown's.
import { describe, expect, it } from "vitest";
import {
  clusterJson,
  jsonPathOf,
  writeModel,
  type ClusterJsonInput,
} from "../../../bench/cluster/results-json.js";

const mem = (rss: number[], heap: number | null) => ({
  rssMiB: rss,
  heapUsedMiB: heap,
  heapTotalMiB: heap && heap * 2,
});

const full: ClusterJsonInput = {
  date: "2026-12-07 06:00 UTC",
  flags: {},
  machine: { cpus: 2, model: "x", loadavg: [1, 1, 1] },
  nodes: 4,
  replicas: 3,
  baseline: { lat: { p50: 2 } },
  cluster: {
    ingress: { certifiedFraction: 0.97, lagP99: 800, accepted: 2000, certifiedOps: 2000, longestGapMs: 300 },
    serial: { lat: { p50: 2.5 } },
    certified: { lat: { p50: 120 } },
  },
  delay: {
    ingress: {
      certifiedFraction: 0.5,
      lagP99: 9000,
      accepted: 1000,
      certifiedOps: 900,
      longestGapMs: 4000,
      viewChanges: 2,
    },
    certified: { lat: { p50: 700 } },
    delayMs: [70, 150],
  },
  model: writeModel([70, 150], 50, 20),
  roles: {
    ops: 1000,
    rows: [
      { role: "edge Worker (HTTP, routing, op parse)", ms: 300, sqlMs: 0, cryptoMs: 0 },
      {
        role: "origin replica: submit (verify, decide, SQLite txn, sign reply)",
        ms: 700,
        sqlMs: 0,
        cryptoMs: 0,
      },
      { role: "PBFT node: step (core, driver)", ms: 5000, sqlMs: 0, cryptoMs: 0 },
    ],
  },
  rolesAlone: {
    ops: 2000,
    rows: [
      { role: "PBFT node: step (core, driver)", ms: 1000, sqlMs: 0, cryptoMs: 0 },
      { role: "PBFT node: sign", ms: 600, sqlMs: 0, cryptoMs: 0 },
      { role: "replicas: apply certified batches", ms: 1200, sqlMs: 0, cryptoMs: 0 },
      { role: "edge Worker (HTTP, routing, op parse)", ms: 999, sqlMs: 0, cryptoMs: 0 },
    ],
  },
  alone: {
    ops: 20000,
    certified: 20000,
    certifiedOpsPerSec: 1200,
    longestGapMs: 1500,
    gapOpen: false,
    stalled: false,
  },
  memory: {
    start: mem([90, 20], 10),
    afterRun: { ...mem([200, 20], 40), certifiedOps: 20000 },
    afterIdle: { ...mem([180, 20], 30), idleS: 60 },
  },
  workerReloads: { cluster: 0, alone: 0 },
};

describe("clusterJson", () => {
  it("has the issue's fields, each from its figure", () => {
    const j = clusterJson(full);
    expect(j.aloneCertifiedOpsPerSec).toBe(1200);
    expect(j.aloneLongestGapMs).toBe(1500);
    expect(j.aloneStalled).toBe(false);
    // node: 1,600 ms over 2,000 ops over 4 nodes; replica apply: 1,200 ms / 2,000 / 3
    expect(j.cpuUsPerOp).toEqual({ node: 200, replicaApply: 200, edgeWrite: 1000 });
    expect(j.ingress).toMatchObject({ certifiedFraction: 0.97, lagP99Ms: 800 });
    expect(j.delayed).toMatchObject({
      viewChanges: 2,
      certifiedFraction: 0.5,
      certifiedWriteP50Ms: 700,
      modelMs: 3 * 110 + 50 + 20,
    });
    expect(j.writer.ratio).toBe(1.25);
    expect(j.memory?.start).toMatchObject({ rssMiB: 110, heapUsedMiB: 10 });
    expect(j.memory?.afterRun).toMatchObject({ rssMiB: 220, heapUsedMiB: 40, certifiedOps: 20000 });
    expect(j.memory?.afterIdle).toMatchObject({ rssMiB: 200, idleS: 60 });
  });
  it("the node's CPU per op is its own process's (/proc) when the nodes run apart", () => {
    // 2.4 ms of the nodes' workerd per certified op over 4 nodes: 600 µs each, whatever was sampled
    const j = clusterJson({ ...full, alone: { ...full.alone!, nodesCpuMsPerOp: 2.4 } });
    expect(j.cpuUsPerOp.node).toBe(600);
    expect(clusterJson({ ...full, alone: { ...full.alone!, nodesCpuMsPerOp: null } }).cpuUsPerOp.node).toBe(
      200,
    );
  });
  it("a gap still open at the end is a stall", () => {
    expect(clusterJson({ ...full, alone: { ...full.alone!, gapOpen: true } }).aloneStalled).toBe(true);
  });
  it("a partial run: every field is there, null where it was not measured", () => {
    const j = clusterJson({
      ...full,
      baseline: undefined,
      cluster: undefined,
      delay: undefined,
      roles: undefined,
      rolesAlone: undefined,
      alone: undefined,
      memory: undefined,
    });
    expect(j.aloneCertifiedOpsPerSec).toBeNull();
    expect(j.aloneLongestGapMs).toBeNull();
    expect(j.aloneStalled).toBeNull();
    expect(j.cpuUsPerOp).toEqual({ node: null, replicaApply: null, edgeWrite: null });
    expect(j.ingress).toEqual({ certifiedFraction: null, lagP99Ms: null });
    expect(j.delayed).toMatchObject({
      viewChanges: null,
      certifiedFraction: null,
      certifiedWriteP50Ms: null,
    });
    expect(j.writer.ratio).toBeNull();
    expect(j.memory).toBeNull();
  });
  it("a figure that is not a number (no samples: NaN) is null, so the JSON stays JSON", () => {
    const j = clusterJson({ ...full, cluster: { ...full.cluster!, serial: { lat: { p50: NaN } } } });
    expect(j.writer.ratio).toBeNull();
    expect(j.writer.ecWriteP50Ms).toBeNull();
    const k = clusterJson({ ...full, alone: { ...full.alone!, certifiedOpsPerSec: NaN } });
    expect(k.aloneCertifiedOpsPerSec).toBeNull();
  });
});

describe("jsonPathOf", () => {
  it("puts the JSON beside the Markdown", () => {
    expect(jsonPathOf("bench/results/cluster-latest.md")).toBe("bench/results/cluster-latest.json");
    expect(jsonPathOf("/tmp/run.md")).toBe("/tmp/run.json");
    expect(jsonPathOf("/tmp/run")).toBe("/tmp/run.json");
  });
});
