/**
 * A batch of ops beside the same number of single requests, measured in the same run against the
 * same system: `N` signed `counter.add` ops sent one `POST /v1/ops` after the other on one
 * keep-alive connection, then `N` others in one `POST /v1/ops/batch`; alternated for a few rounds
 * (the machine is shared and noisy), medians reported. Every reply must be 200 and, for the batch,
 * hold `N` accepted ops, or the run fails: a figure from refused ops would mean nothing.
 */
import { performance } from "node:perf_hooks";
import { signOp } from "../../shared/ops.js";
import { makeAgent, post } from "./load.js";
import { median } from "./stats.js";
import type { BenchClient } from "./workload.js";

export interface BatchVsSingle {
  ops: number;
  rounds: number;
  /** Ops per second, median of the rounds. */
  singleOpsPerSec: number;
  batchOpsPerSec: number;
  /** batch / single. */
  ratio: number;
  perRound: { singleMs: number; batchMs: number }[];
}

async function signed(c: BenchClient, prefix: string, n: number): Promise<string[]> {
  const ts = Date.now();
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      signOp(c.kp.secret, {
        client: c.kp.publicKey,
        seq: ++c.seq,
        key: `${prefix}/k${i % 10}`,
        type: "counter",
        op: "add",
        args: { n: 1 },
        ts,
      }).then((op) => JSON.stringify(op)),
    ),
  );
}

export async function batchVsSingle(
  port: number,
  replica: string,
  client: BenchClient,
  prefix: string,
  ops: number,
  rounds: number,
): Promise<BatchVsSingle> {
  const agent = makeAgent(1);
  const perRound: { singleMs: number; batchMs: number }[] = [];
  try {
    for (let r = 0; r < rounds; r++) {
      const singles = await signed(client, `${prefix}/s${r}`, ops);
      const batch = `{"ops":[${(await signed(client, `${prefix}/b${r}`, ops)).join(",")}]}`;
      const t0 = performance.now();
      for (const body of singles) {
        const res = await post(agent, port, `/v1/ops?replica=${replica}`, body, false);
        if (res.status !== 200) throw new Error(`single op: HTTP ${res.status} ${res.body.slice(0, 200)}`);
      }
      const t1 = performance.now();
      const res = await post(agent, port, `/v1/ops/batch?replica=${replica}`, batch, true);
      const t2 = performance.now();
      if (res.status !== 200) throw new Error(`batch: HTTP ${res.status} ${res.body.slice(0, 200)}`);
      const results = (JSON.parse(res.body) as { results: { kind?: string }[] }).results;
      const accepted = results.filter((x) => x.kind === "op").length;
      if (accepted !== ops) throw new Error(`batch: ${accepted} of ${ops} ops accepted`);
      perRound.push({ singleMs: t1 - t0, batchMs: t2 - t1 });
    }
  } finally {
    agent.destroy();
  }
  const singleOpsPerSec = median(perRound.map((p) => (ops * 1000) / p.singleMs));
  const batchOpsPerSec = median(perRound.map((p) => (ops * 1000) / p.batchMs));
  return { ops, rounds, singleOpsPerSec, batchOpsPerSec, ratio: batchOpsPerSec / singleOpsPerSec, perRound };
}
