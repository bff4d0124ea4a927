/**
 * Core benchmark (`npm run bench:core`): a 4-node PBFT cluster in one process, ops submitted
 * continuously to every node, batch sizes 1, 10 and 100, with (a) the stand-in signer and (b) real
 * Ed25519 (shared/crypto). Every message goes through the real boundary (signed, verified; each
 * client op verified once per node) and the real core and Merkle state machine; messages are
 * passed as objects (no JSON encoding, no network). Client ops are signed before the clock starts.
 *
 * Reported next to the bound set by op-signature verification measured in the same run: every
 * node verifies every client op once, so the cluster cannot certify faster than verifications/s ÷ n.
 */
import * as nodeCrypto from "node:crypto";
import { merkleStateMachines } from "../../shared/certified/state-machine.js";
import type { ClusterConfig, StateMachineFactory } from "../../shared/certified/types.js";
import { devKeyPair } from "../../shared/crypto/keys.js";
import { useNativeSha256 } from "../../shared/hash.js";
import { opIdOf, signOp, verifyOp, type OpBody, type SignedOp } from "../../shared/ops.js";
import { PbftBoundary } from "../../shared/pbft/boundary.js";
import type { PbftConfig } from "../../shared/pbft/config.js";
import type { Effects } from "../../shared/pbft/effects.js";
import type { Envelope } from "../../shared/pbft/messages.js";
import { PbftReplica } from "../../shared/pbft/replica.js";
import {
  ed25519Scheme,
  standInScheme,
  standInSignOp,
  type SignatureScheme,
} from "../../shared/pbft/signature-scheme.js";

// Node's one-shot crypto.hash (≥ 20.12) is ~2× createHash for the many small inputs; fall back otherwise.
const oneShot = (nodeCrypto as { hash?: (alg: string, d: Uint8Array, enc: "buffer") => Uint8Array }).hash;
useNativeSha256(
  oneShot
    ? (d) => {
        const b = oneShot("sha256", d, "buffer");
        return new Uint8Array(b.buffer, b.byteOffset, b.length);
      }
    : (d) => new Uint8Array(nodeCrypto.createHash("sha256").update(d).digest()),
);

type Signer = "stand-in" | "ed25519";
const N = 4;
const TICK_MS = 10;
const KEYS = 1_000;

interface Result {
  signer: Signer;
  batch: number;
  ops: number;
  seconds: number;
  opsPerSec: number;
  ticksToCertP50: number;
  ticksToCertP99: number;
}

async function makeOps(signer: Signer, count: number): Promise<SignedOp[]> {
  const clients = await Promise.all([0, 1, 2, 3].map((i) => devKeyPair("bench", `client-${i}`)));
  const seqs = [0, 0, 0, 0];
  const ops: SignedOp[] = [];
  for (let i = 0; i < count; i++) {
    const c = i % clients.length;
    const body: OpBody = {
      client: clients[c]!.publicKey,
      seq: ++seqs[c]!,
      key: `key-${i % KEYS}`,
      type: "counter",
      op: "add",
      args: { n: 1 + (i % 7) },
      ts: 1_700_000_000_000,
    };
    ops.push(signer === "ed25519" ? await signOp(clients[c]!.secret, body) : standInSignOp(body));
  }
  return ops;
}

async function cluster(signer: Signer): Promise<{ cluster: ClusterConfig; schemes: SignatureScheme[] }> {
  const keys = await Promise.all(Array.from({ length: N }, (_, i) => devKeyPair("bench", `pbft-${i}`)));
  const cluster: ClusterConfig = {
    cluster: "bench",
    f: 1,
    nodes: keys.map((k, i) => ({ id: `pbft-${i}`, publicKey: k.publicKey })),
  };
  const secrets = keys.map((k) => k.secret);
  const schemes = keys.map((k, i) =>
    signer === "ed25519" ? ed25519Scheme(cluster, k.secret) : standInScheme(secrets, i),
  );
  return { cluster, schemes };
}

/**
 * A state machine that does no state work (fixed roots): isolates the protocol core, the boundary
 * and the signatures from the Merkle tree, whose own numbers follow (runMerkleBench).
 */
const nullMachines: StateMachineFactory = {
  create: () => ({
    execute: (ops) => ({
      results: ops.map((o) => ({ opId: opIdOf(o), status: "ok" as const, value: null })),
      stateRoot: "0".repeat(64),
      resultsRoot: "0".repeat(64),
    }),
    stateRoot: () => "0".repeat(64),
    snapshot: () => null,
  }),
};

type Machine = "merkle" | "none";

async function runOne(signer: Signer, batch: number, ops: SignedOp[], machine: Machine): Promise<Result> {
  const machines = machine === "merkle" ? merkleStateMachines : nullMachines;
  const { cluster: cfgCluster, schemes } = await cluster(signer);
  const config: Partial<PbftConfig> = {
    tickMs: TICK_MS,
    batchSizeMax: batch,
    poolSizeMax: 50_000,
    checkpointIntervalSeqs: 64,
    logWindowSeqs: 256,
    requestTimeoutTicks: 1_000_000,
    relayAfterTicks: 1_000_000,
    statusIntervalTicks: 1_000,
  };
  const replicas = schemes.map((_, me) => new PbftReplica({ cluster: cfgCluster, me, config, machines }));
  const boundaries = schemes.map((s, me) => new PbftBoundary(cfgCluster, me, s, config));
  const queue: { to: number; env: Envelope; local: boolean }[] = [];
  let head = 0;
  let nowMs = 1_700_000_000_000;
  let tick = 0;
  const submittedAt = new Map<string, number>();
  const latencies: number[] = [];
  const certifiedSeqs = new Set<number>();
  let certified = 0;

  const handle = async (i: number, fx: Effects) => {
    for (const out of fx.send) {
      const env = await boundaries[i]!.seal(out);
      for (const to of out.to) queue.push({ to, env, local: to === i });
    }
    for (const c of fx.certificates) {
      if (certifiedSeqs.has(c.body.seq)) continue;
      certifiedSeqs.add(c.body.seq);
      certified += c.ops.length;
      for (const op of c.ops) latencies.push(tick - (submittedAt.get(opIdOf(op)) ?? tick));
    }
  };
  const drain = async () => {
    while (head < queue.length) {
      const { to, env, local } = queue[head++]!;
      // Own messages are trusted; everything from a peer is verified by the receiver's boundary.
      const ok = local ? env : await boundaries[to]!.open(env);
      if (!ok) throw new Error("bench: a valid message was rejected");
      await handle(to, replicas[to]!.step({ kind: "message", envelope: ok }));
    }
    queue.length = 0;
    head = 0;
  };
  const tickAll = async () => {
    nowMs += TICK_MS;
    tick++;
    for (let i = 0; i < N; i++) await handle(i, replicas[i]!.step({ kind: "tick", nowMs }));
  };

  await tickAll();
  const outstandingMax = Math.max(4 * batch, Math.min(64 * batch, 4_000));
  let next = 0;
  const t0 = performance.now();
  while (certified < ops.length) {
    let submitted = 0;
    while (next < ops.length && next - certified < outstandingMax && submitted < batch) {
      const op = ops[next++]!;
      submittedAt.set(opIdOf(op), tick);
      for (let i = 0; i < N; i++) {
        const admitted = await boundaries[i]!.admitOp(op);
        if (!admitted) throw new Error("bench: a valid op was refused");
        await handle(i, replicas[i]!.step({ kind: "submit", op: admitted }));
      }
      submitted++;
    }
    await drain();
    if (submitted === 0 || next >= ops.length) {
      await tickAll();
      await drain();
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    signer,
    batch,
    ops: ops.length,
    seconds,
    opsPerSec: ops.length / seconds,
    ticksToCertP50: latencies[Math.floor(latencies.length / 2)] ?? 0,
    ticksToCertP99: latencies[Math.floor(latencies.length * 0.99)] ?? 0,
  };
}

/** Client-op verifications per second on this core (fresh ops: no cache), as each node does them. */
async function verifyRate(signer: Signer, ops: SignedOp[]): Promise<number> {
  const scheme = standInScheme(["x"], 0);
  const t0 = performance.now();
  for (const op of ops) {
    const ok = signer === "ed25519" ? await verifyOp(op) : await scheme.verifyOp(op);
    if (!ok) throw new Error("bench: verification failed");
  }
  return ops.length / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const plan: Record<Signer, number> = { "stand-in": 40_000, ed25519: 8_000 };
  const rows: string[] = [];
  console.log("PBFT core, 4 nodes in one process (batch sizes 1, 10, 100)");
  const signers = (process.env.BENCH_SIGNERS?.split(",") ?? ["stand-in", "ed25519"]) as Signer[];
  const batches = (process.env.BENCH_BATCHES?.split(",").map(Number) ?? [1, 10, 100]) as number[];
  for (const signer of signers) {
    const opsAll = await makeOps(signer, plan[signer]);
    const sample = await makeOps(signer, Math.min(4_000, plan[signer]));
    await verifyRate(signer, sample.slice(0, 500)); // warm up (JIT, key import)
    const rate = await verifyRate(signer, sample);
    const bound = rate / N;
    for (const machine of (process.env.BENCH_MACHINES?.split(",") ?? ["none", "merkle"]) as Machine[])
      for (const batch of batches) {
        const count =
          batch === 1 ? Math.min(opsAll.length, signer === "ed25519" ? 2_000 : 4_000) : opsAll.length;
        const r = await runOne(signer, batch, opsAll.slice(0, count), machine);
        const line = {
          event: "bench_core",
          signer,
          stateMachine: machine,
          batch,
          ops: r.ops,
          certifiedOpsPerSec: Math.round(r.opsPerSec),
          ticksToCertificateP50: r.ticksToCertP50,
          ticksToCertificateP99: r.ticksToCertP99,
          opVerificationsPerSec: Math.round(rate),
          verificationBoundOpsPerSec: Math.round(bound),
          ofBound: `${((100 * r.opsPerSec) / bound).toFixed(0)}%`,
        };
        console.log(JSON.stringify(line));
        rows.push(
          `${signer.padEnd(9)} ${machine === "none" ? "core only " : "+merkle sm"} batch ${String(batch).padStart(3)}: ${String(Math.round(r.opsPerSec)).padStart(7)} certified ops/s, ` +
            `ticks to certificate p50 ${r.ticksToCertP50} p99 ${r.ticksToCertP99}; bound ${Math.round(bound)} ops/s (${line.ofBound})`,
        );
      }
  }
  console.log("\n" + rows.join("\n"));
  console.log(
    "targets: stand-in ≥ 50,000 certified ops/s at batch 100; Ed25519 ≥ 80% of the verification bound\n",
  );

  // The Merkle state machine's own benchmark (bench/core/merkle.ts, written alongside).
  if (process.env.BENCH_SKIP_MERKLE) return;
  try {
    const mod = (await import("./merkle.js")) as { runMerkleBench?: () => Promise<void> };
    if (mod.runMerkleBench) await mod.runMerkleBench();
    else console.log("bench/core/merkle.ts has no runMerkleBench export yet");
  } catch (e) {
    console.log(`bench/core/merkle.ts unavailable: ${(e as Error).message}`);
  }
}

void main();
