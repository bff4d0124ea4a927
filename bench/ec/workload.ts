/**
 * The EC write workload: signed `counter.add` ops, one client key per connection, seqs counting up
 * per client, spread over a set of keys. Every `sampleEvery`-th op goes to a unique key instead, so
 * its arrival at the other replicas can be observed (propagation probe).
 */
import { generateKeyPair, type KeyPair } from "../../shared/crypto/keys.js";
import { signOp, type SignedOp } from "../../shared/ops.js";

export interface BenchClient {
  kp: KeyPair;
  seq: number;
}

export async function makeClients(n: number): Promise<BenchClient[]> {
  return Promise.all(Array.from({ length: n }, async () => ({ kp: await generateKeyPair(), seq: 0 })));
}

export interface Probe {
  key: string;
  /** The value the unique key holds once the op is applied. */
  expect: number;
}

export interface Workload {
  bodies: string[][];
  /** probes[conn][i] is set when op i of connection conn is sampled. */
  probes: (Probe | undefined)[][];
  signMs: number;
}

export interface WorkloadOptions {
  /** Total ops, split evenly over the clients (one client per connection). */
  ops: number;
  clients: BenchClient[];
  /** Names for this phase's keys (keeps phases apart). */
  prefix: string;
  /** Number of shared counter keys the ops are spread over. */
  keys: number;
  /** 0 = no sampling. */
  sampleEvery: number;
}

/** Sign every op now (call just before the phase: replicas refuse ts more than 5 min off). */
export async function buildWorkload(o: WorkloadOptions): Promise<Workload> {
  const t0 = performance.now();
  const nConn = o.clients.length;
  const bodies: string[][] = o.clients.map(() => []);
  const probes: (Probe | undefined)[][] = o.clients.map(() => []);
  const ts = Date.now();
  const pending: Promise<void>[] = [];
  let rng = 0x2545f491;
  const rand = () => {
    // xorshift32: a reproducible key spread
    rng ^= rng << 13;
    rng ^= rng >>> 17;
    rng ^= rng << 5;
    return (rng >>> 0) / 0x100000000;
  };
  for (let g = 0; g < o.ops; g++) {
    const conn = g % nConn;
    const c = o.clients[conn]!;
    const slot = bodies[conn]!.length;
    const sampled = o.sampleEvery > 0 && g % o.sampleEvery === o.sampleEvery - 1;
    const key = sampled ? `${o.prefix}/p${g}` : `${o.prefix}/k${Math.floor(rand() * o.keys)}`;
    const n = sampled ? 1 : 1 + Math.floor(rand() * 9);
    bodies[conn]!.push("");
    probes[conn]!.push(sampled ? { key, expect: n } : undefined);
    const seq = ++c.seq;
    pending.push(
      signOp(c.kp.secret, {
        client: c.kp.publicKey,
        seq,
        key,
        type: "counter",
        op: "add",
        args: { n },
        ts,
      }).then((op: SignedOp) => {
        bodies[conn]![slot] = JSON.stringify(op);
      }),
    );
    if (pending.length >= 2000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  return { bodies, probes, signMs: performance.now() - t0 };
}

/** One signed op on a fresh key (markers for "replication has caught up"). */
export async function signedMarker(c: BenchClient, key: string): Promise<string> {
  const op = await signOp(c.kp.secret, {
    client: c.kp.publicKey,
    seq: ++c.seq,
    key,
    type: "counter",
    op: "add",
    args: { n: 1 },
    ts: Date.now(),
  });
  return JSON.stringify(op);
}
