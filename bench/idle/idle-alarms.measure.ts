/**
 * Alarm runs per replica and per node per minute on a deployment nobody uses: one write per replica
 * (so every object exists and the cluster certified something), a settle, then `IDLE_MEASURE_S`
 * seconds of nothing, counted by each object's own alarm counter (`stats().alarms`,
 * `status().alarms`) and the certified seqs (heartbeats) meanwhile. Printed as one JSON line.
 */
import { env } from "cloudflare:test";
import { expect, it } from "vitest";
import { PBFT_NODES } from "../../shared/cluster-config.js";
import { REPLICAS, stub } from "../../test/runtime/helpers.js";
import { allStatus, writeAndCertify } from "../../test/cluster/support.js";

const bindings = env as unknown as Record<string, string | undefined>;
const IDLE_S = Number(bindings.IDLE_MEASURE_S ?? "60");
const SETTLE_MS = 5_000;

const replicaAlarms = async () => Promise.all(REPLICAS.map(async (r) => (await stub(r).stats()).alarms.runs));
const nodeCounts = async () => (await allStatus()).map((s) => ({ alarms: s.alarms, seq: s.lastExecuted }));

it(`counts alarm runs over ${IDLE_S} s idle`, { timeout: 900_000 }, async () => {
  await writeAndCertify("idle-measure");
  await new Promise((r) => setTimeout(r, SETTLE_MS));
  const r0 = await replicaAlarms();
  const n0 = await nodeCounts();
  const t0 = Date.now();
  // sampled every 5 s: the calls keep the objects in memory, so their in-memory counters are not
  // reset by an eviction (a call is a request, not an alarm: it adds nothing to what is counted)
  while (Date.now() - t0 < IDLE_S * 1000) {
    await new Promise((r) => setTimeout(r, 5_000));
    await Promise.all([replicaAlarms(), nodeCounts()]);
  }
  const minutes = (Date.now() - t0) / 60_000;
  const r1 = await replicaAlarms();
  const n1 = await nodeCounts();
  const perMin = (a: number, b: number) => Math.round(((b - a) / minutes) * 10) / 10;
  const result = {
    label: bindings.IDLE_MEASURE_LABEL,
    idleSeconds: Math.round(minutes * 60),
    replicaAlarmsPerMin: Object.fromEntries(REPLICAS.map((r, i) => [r, perMin(r0[i]!, r1[i]!)])),
    nodeAlarmsPerMin: Object.fromEntries(
      PBFT_NODES.map((n, i) => [n.id, perMin(n0[i]!.alarms, n1[i]!.alarms)]),
    ),
    certifiedSeqsPerMin: perMin(Math.max(...n0.map((x) => x.seq)), Math.max(...n1.map((x) => x.seq))),
  };
  console.log(`IDLE_RESULT ${JSON.stringify(result)}`);
  expect(result.idleSeconds).toBeGreaterThan(0);
});
