/**
 * `tsx bench/core/cpu-per-op.ts`: CPU per certified op of the certified state's work, per role, in
 * plain Node over the memory stores (Node 20 has no SQLite; the SQLite row writes per batch are
 * counted inside workerd by test/runtime/sql-store-writes.test.ts). Not a test.
 *
 * Full batches of 64 ops (8 clients, 2,000 counter keys, after 40 warm-up batches), each at its seq,
 * replaced nodes retired and collected 4 seqs behind (a node's stable checkpoint), per op:
 * - node: verify the op's client signature (Ed25519, as the node's boundary does) + execute;
 * - replica apply: verify the certificate (2f+1 = 3 Ed25519 share signatures per batch) + execute;
 * - edge write: verify the op's client signature (the rest of the write is SQLite, not here).
 * µs of process CPU (`process.cpuUsage`), SHA-256 calls, tree nodes added, and node-store calls
 * (retire, remove), each with the portable and the native SHA-256. The store calls are the
 * noise-free proxy of SQLite writes: each retire was one row written (and one more deleted at
 * collect) before SqlNodeStore wrote one row per batch's retired list.
 *
 * Flags: --batches N (200)
 */
import * as nodeCrypto from "node:crypto";
import { parseArgs } from "node:util";
import { MemoryNodeStore, type NodeId } from "../../shared/certified/node-store.js";
import { MemoryRecordStore } from "../../shared/certified/record-store.js";
import { MerkleStateMachine } from "../../shared/certified/state-machine.js";
import { utf8 } from "../../shared/bytes.js";
import { generateKeyPair, signBytes, verifyBytes } from "../../shared/crypto/keys.js";
import { portableSha256, useNativeSha256, type HashFn } from "../../shared/hash.js";
import { signOp, verifyOp, type SignedOp } from "../../shared/ops.js";

const { values: flags } = parseArgs({ options: { batches: { type: "string", default: "200" } } });
const BATCHES = Number(flags.batches);
if (!Number.isInteger(BATCHES) || BATCHES < 1) throw new Error("--batches: a positive integer");
const BATCH = 64;
const WARMUP = 40;
const KEYS = 2000;
const CLIENTS = 8;
const LAG = 4;

const nativeSha256: HashFn = (d) => new Uint8Array(nodeCrypto.createHash("sha256").update(d).digest());

/** Counts what the tree asks of its node store. */
class CountingNodeStore extends MemoryNodeStore {
  adds = 0;
  removes = 0;
  retires = 0;
  private collecting = false;
  override add(...a: Parameters<MemoryNodeStore["add"]>): NodeId {
    this.adds++;
    return super.add(...a);
  }
  /** Removed at once (not through `collect`): nodes the tree replaced within one update. */
  override remove(id: NodeId): void {
    if (!this.collecting) this.removes++;
    super.remove(id);
  }
  override collect(through: number): number {
    this.collecting = true;
    try {
      return super.collect(through);
    } finally {
      this.collecting = false;
    }
  }
  override retire(id: NodeId, version: number): void {
    this.retires++;
    super.retire(id, version);
  }
}

async function makeOps(): Promise<SignedOp[][]> {
  const clients = await Promise.all(Array.from({ length: CLIENTS }, () => generateKeyPair()));
  const seqs = new Array<number>(CLIENTS).fill(0);
  const out: SignedOp[][] = [];
  let n = 0;
  for (let b = 0; b < WARMUP + BATCHES; b++) {
    const batch: SignedOp[] = [];
    for (let j = 0; j < BATCH; j++, n++) {
      const c = n % CLIENTS;
      batch.push(
        await signOp(clients[c]!.secret, {
          client: clients[c]!.publicKey,
          seq: ++seqs[c]!,
          key: `bench/k${(n * 7919) % KEYS}`,
          type: "counter",
          op: "add",
          args: { n: 1 },
          ts: 1_700_000_000_000 + n,
        }),
      );
    }
    out.push(batch);
  }
  return out;
}

interface RoleFigures {
  usPerOp: { node: number; replicaApply: number; edgeWrite: number; execute: number };
  hashesPerOp: number;
  nodesAddedPerOp: number;
  retiresPerOp: number;
  removesPerOp: number;
}

async function measure(batches: SignedOp[][], hash: HashFn): Promise<RoleFigures> {
  let hashes = 0;
  useNativeSha256((d) => (hashes++, hash(d)), hash === portableSha256 ? "portable" : "node:crypto");
  const nodes = new CountingNodeStore();
  const sm = new MerkleStateMachine({ nodes, records: new MemoryRecordStore() });
  const shareKeys = await Promise.all([0, 1, 2].map(() => generateKeyPair()));
  const body = utf8("aspec/certificate/v1\n" + "x".repeat(300)); // a body's size, signed once
  const shares = await Promise.all(shareKeys.map((k) => signBytes(k.secret, body)));
  const cpu = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  let execUs = 0;
  let verifyOpsUs = 0;
  let verifyCertUs = 0;
  let ops = 0;
  const h0 = { hashes: 0, adds: 0, retires: 0, removes: 0 };
  for (let b = 0; b < batches.length; b++) {
    const counted = b >= WARMUP;
    if (b === WARMUP)
      Object.assign(h0, { hashes, adds: nodes.adds, retires: nodes.retires, removes: nodes.removes });
    const batch = batches[b]!;
    let t = cpu();
    const ok = await Promise.all(batch.map((op) => verifyOp(op)));
    if (!ok.every(Boolean)) throw new Error("bench: an op does not verify");
    verifyOpsUs += counted ? cpu() - t : 0;
    t = cpu();
    const sigsOk = await Promise.all(shares.map((s, i) => verifyBytes(shareKeys[i]!.publicKey, body, s)));
    if (!sigsOk.every(Boolean)) throw new Error("bench: a share does not verify");
    verifyCertUs += counted ? cpu() - t : 0;
    t = cpu();
    const seq = b + 1;
    sm.execute(batch, seq);
    if (seq > LAG) sm.collect(seq - LAG);
    execUs += counted ? cpu() - t : 0;
    if (counted) ops += batch.length;
  }
  return {
    usPerOp: {
      node: (verifyOpsUs + execUs) / ops,
      replicaApply: (verifyCertUs + execUs) / ops,
      edgeWrite: verifyOpsUs / ops,
      execute: execUs / ops,
    },
    hashesPerOp: (hashes - h0.hashes) / ops,
    nodesAddedPerOp: (nodes.adds - h0.adds) / ops,
    retiresPerOp: (nodes.retires - h0.retires) / ops,
    removesPerOp: (nodes.removes - h0.removes) / ops,
  };
}

const batches = await makeOps();
const f = (x: number) => x.toFixed(1);
console.log(
  `cpu-per-op: ${BATCHES} batches of ${BATCH} ops (${WARMUP} warm-up), ${KEYS} keys, ${CLIENTS} clients`,
);
console.log(
  "| SHA-256 | node µs/op | replica apply µs/op | edge write (verify) µs/op | execute µs/op | hashes/op | nodes added/op | retires/op | removes/op |",
);
console.log("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
for (const [name, hash] of [
  ["portable", portableSha256],
  ["node:crypto", nativeSha256],
] as const) {
  const r = await measure(batches, hash);
  console.log(
    `| ${name} | ${f(r.usPerOp.node)} | ${f(r.usPerOp.replicaApply)} | ${f(r.usPerOp.edgeWrite)} | ${f(r.usPerOp.execute)} | ${f(r.hashesPerOp)} | ${f(r.nodesAddedPerOp)} | ${f(r.retiresPerOp)} | ${f(r.removesPerOp)} |`,
  );
}
useNativeSha256(portableSha256);
