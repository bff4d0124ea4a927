/**
 * One acceptance suite for the shell driver's storage (shared/pbft/driver.ts), run by every host:
 * the in-memory host in plain Node (test/unit/pbft/driver-acceptance.test.ts), and the PbftNode
 * Durable Object's SQLite storage inside workerd when it exists. A 4-node cluster (f = 1) runs on
 * the real core, the real boundary (stand-in signatures) and the host's storage; the suite checks
 * the driver's contract: a step runs inside its transaction and its rows are durable before
 * anything is sent or published, one transport call per destination per step, a node's own
 * envelopes stepped right after in order, the wake-up returned, a crash right after persist loses
 * no committed batch and sends nothing unsigned, a step that throws leaves nothing behind, and a
 * node restored from its rows carries on.
 */
import { describe, expect, it } from "vitest";
import type { Json } from "../../shared/canonical.js";
import type { CertifiedStateMachine, ClusterConfig } from "../../shared/certified/types.js";
import type { OpBody, SignedOp } from "../../shared/ops.js";
import { PbftBoundary } from "../../shared/pbft/boundary.js";
import type { PbftConfig } from "../../shared/pbft/config.js";
import { PbftDriver, type DriverStorage, type StepReport } from "../../shared/pbft/driver.js";
import type { CertifiedBatch, Effects } from "../../shared/pbft/effects.js";
import { SELF_CERTIFYING, type Envelope } from "../../shared/pbft/messages.js";
import { PbftReplica, type Input, type ReplicaOptions } from "../../shared/pbft/replica.js";
import { standInScheme, standInSignOp } from "../../shared/pbft/signature-scheme.js";

/** One node's storage as a host gives it: the driver's storage and a state machine over its stores. */
export interface HostNode {
  storage: DriverStorage;
  /** The certified state machine over this node's stores (written in `storage`'s transactions). */
  sm: CertifiedStateMachine;
}

export interface DriverAcceptanceHost {
  /** A fresh node's storage (empty), under a name new to this host. */
  fresh(name: string): HostNode;
  /** The node `name` again after a crash or restart: only what its committed transactions wrote. */
  reopen(name: string): HostNode;
  /** Run a test body where the storage can be used (e.g. inside a Durable Object). */
  run?(body: () => Promise<void>): Promise<void>;
}

const N = 4;
const CLUSTER: ClusterConfig = {
  cluster: "driver-acceptance",
  f: 1,
  nodes: Array.from({ length: N }, (_, i) => ({ id: `pbft-${i}`, publicKey: `p${i}` })),
};
const SECRETS = Array.from({ length: N }, (_, i) => `driver-acceptance-${i}`);
const CONFIG: Partial<PbftConfig> = {
  batchSizeMax: 1,
  checkpointIntervalSeqs: 2,
  logWindowSeqs: 4,
  tickMs: 10,
};

function makeOp(seq: number): SignedOp {
  const body: OpBody = {
    client: "C".repeat(43),
    seq,
    key: "k",
    type: "counter",
    op: "add",
    args: { n: 1 },
    ts: 1,
  };
  return standInSignOp(body);
}

/** What happened in one step of one node, as the suite's hooks saw it. */
interface StepLog {
  node: number;
  input: Input | null;
  fx: Effects | null;
  /** Transport calls made in this step: destination and envelope count. */
  sends: { to: number; count: number }[];
  sealed: { env: Envelope; to: readonly number[] }[];
  published: number;
}

/** A 4-node cluster, each node on the host's storage behind a PbftDriver; FIFO delivery through the boundary. */
class Cluster {
  readonly drivers: (PbftDriver | null)[] = [];
  readonly boundaries = SECRETS.map(
    (_, i) => new PbftBoundary(CLUSTER, i, standInScheme(SECRETS, i), CONFIG),
  );
  readonly queue: { from: number; to: number; env: Envelope }[] = [];
  readonly log: StepLog[] = [];
  readonly certified: CertifiedBatch[][] = Array.from({ length: N }, () => []);
  readonly storages: DriverStorage[] = [];
  /** Inside a transaction of node i, now. */
  readonly inTx: boolean[] = new Array<boolean>(N).fill(false);
  /** Set to crash node i in the `persisted` hook of its next step that matches. */
  crashWhen: ((node: number, fx: Effects) => boolean) | null = null;
  /** Checks run at each send and publish (e.g. that the step's rows are durable). */
  onOutput: ((node: number, step: StepLog, what: "send" | "publish") => void) | null = null;
  nowMs = 1_000;

  constructor(
    private readonly host: DriverAcceptanceHost,
    private readonly tag: string,
  ) {
    for (let i = 0; i < N; i++) {
      const { storage, sm } = host.fresh(this.name(i));
      this.drivers.push(
        new PbftDriver(
          new PbftReplica({ cluster: CLUSTER, me: i, config: CONFIG, sm: this.watch(i, sm) }),
          this.hostFor(i, storage),
        ),
      );
    }
  }

  name(i: number): string {
    return `${this.tag}-${i}`;
  }

  /** The state machine, checked to run only inside its node's transaction. */
  private watch(i: number, sm: CertifiedStateMachine): CertifiedStateMachine {
    const execute = sm.execute.bind(sm);
    sm.execute = (ops, version) => {
      if (!this.inTx[i]) throw new Error(`node ${i} executed outside its step's transaction`);
      if (this.throwInExecute === i) {
        this.throwInExecute = null;
        throw new Error("planted failure in execute");
      }
      return execute(ops, version);
    };
    return sm;
  }

  /** Set to make node i's next execution throw (inside its step's transaction). */
  throwInExecute: number | null = null;

  private hostFor(i: number, storage: DriverStorage) {
    this.storages[i] = storage;
    let current: StepLog | null = null;
    const txStorage: DriverStorage = {
      transaction: (body) => {
        this.inTx[i] = true;
        try {
          return storage.transaction(body);
        } finally {
          this.inTx[i] = false;
        }
      },
      write: (rows) => {
        if (!this.inTx[i]) throw new Error("rows written outside a transaction");
        storage.write(rows);
      },
      readRows: () => storage.readRows(),
    };
    return {
      storage: txStorage,
      signer: this.boundaries[i]!,
      transport: {
        send: (to: number, envs: readonly Envelope[]) => {
          current!.sends.push({ to, count: envs.length });
          this.onOutput?.(i, current!, "send");
          for (const env of envs) this.queue.push({ from: i, to, env });
        },
      },
      publish: (c: CertifiedBatch) => {
        current!.published++;
        this.onOutput?.(i, current!, "publish");
        this.certified[i]!.push(c);
      },
      hooks: {
        beforeStep: (input: Input | null) => {
          current = { node: i, input, fx: null, sends: [], sealed: [], published: 0 };
          this.log.push(current);
        },
        persisted: (_input: Input | null, fx: Effects) => {
          current!.fx = fx;
          if (this.crashWhen?.(i, fx)) {
            this.crashWhen = null;
            this.drivers[i] = null;
            return false;
          }
          return true;
        },
        sealed: (env: Envelope, out: { to: readonly number[] }) =>
          void current!.sealed.push({ env, to: out.to }),
      },
    };
  }

  /** Restart node i from what its storage committed; handles the restore's effects. */
  async restart(i: number): Promise<StepReport> {
    const { storage, sm } = this.host.reopen(this.name(i));
    const opts: ReplicaOptions = { cluster: CLUSTER, me: i, config: CONFIG, sm: this.watch(i, sm) };
    const { driver, effects } = PbftDriver.restore(opts, this.hostFor(i, storage));
    this.drivers[i] = driver;
    return driver.resume(effects);
  }

  async step(i: number, input: Input): Promise<StepReport | null> {
    const d = this.drivers[i];
    return d ? d.step(input) : null;
  }

  async tickAll(): Promise<void> {
    this.nowMs += 10;
    for (let i = 0; i < N; i++) await this.step(i, { kind: "tick", nowMs: this.nowMs });
  }

  async submit(op: SignedOp, to: readonly number[] = [0, 1, 2, 3]): Promise<void> {
    for (const i of to) await this.step(i, { kind: "submit", op });
  }

  /** Deliver until quiet: each envelope opened by the receiver's driver (signatures checked), then stepped. */
  async run(max = 20_000): Promise<void> {
    for (let k = 0; k < max && this.queue.length; k++) {
      const { to, env } = this.queue.shift()!;
      const d = this.drivers[to];
      if (!d) continue;
      const opened = await d.open(JSON.parse(JSON.stringify(env)));
      if (!opened.ok) {
        if (opened.reason === "redundant") continue;
        throw new Error(`node ${to} rejected an envelope (${opened.reason})`);
      }
      await d.step({ kind: "message", envelope: opened.envelope });
    }
  }
}

/** Every put of `fx.persist` is in `rows` with its value, every delete absent. */
function expectDurable(rows: [string, Json][], fx: Effects): void {
  const byKey = new Map(rows.map(([k, v]) => [k, JSON.stringify(v)]));
  for (const p of fx.persist) {
    if (p.op === "put") expect(byKey.get(p.key), p.key).toBe(JSON.stringify(p.value));
    else expect(byKey.has(p.key), p.key).toBe(false);
  }
}

export function runDriverAcceptance(hostName: string, host: DriverAcceptanceHost): void {
  let runs = 0;
  const test = (name: string, body: (c: Cluster) => Promise<void>) =>
    it(name, async () => {
      const tag = `${hostName}-${++runs}`;
      const go = () => body(new Cluster(host, tag));
      await (host.run ? host.run(go) : go());
    });

  describe(`PbftDriver over ${hostName}`, () => {
    test("a step runs inside its transaction; its rows are durable before anything is sent or published", async (c) => {
      let outputs = 0;
      c.onOutput = (node, step) => {
        outputs++;
        expect(c.inTx[node]).toBe(false);
        expectDurable(c.storages[node]!.readRows(), step.fx!);
      };
      await c.tickAll();
      for (let s = 1; s <= 3; s++) {
        await c.submit(makeOp(s));
        await c.run();
      }
      expect(outputs).toBeGreaterThan(0);
      for (let i = 0; i < N; i++) expect(c.certified[i]!.map((x) => x.body.seq)).toEqual([1, 2, 3]);
      for (const x of c.certified[0]!)
        expect(await c.boundaries[1]!.checkCertificate(x.certificate)).toBe(true);
    });

    test("one transport call per destination per step, never to the node itself", async (c) => {
      await c.tickAll();
      await c.submit(makeOp(1));
      await c.run();
      for (const step of c.log) {
        const tos = step.sends.map((s) => s.to);
        expect(new Set(tos).size).toBe(tos.length);
        expect(tos).not.toContain(step.node);
        // Each destination got exactly the envelopes sealed for it in this step.
        for (const s of step.sends) {
          expect(s.count).toBe(step.sealed.filter((x) => x.to.includes(s.to)).length);
        }
      }
      expect(c.log.some((s) => s.sends.length === N - 1)).toBe(true);
    });

    test("a node's own envelopes are stepped right after the step that sent them, in order", async (c) => {
      await c.tickAll();
      const from = c.log.length;
      const report = (await c.step(0, { kind: "submit", op: makeOp(1) }))!;
      const steps = c.log.slice(from);
      expect(steps.length).toBe(report.steps);
      // Breadth first: each step's self-addressed envelopes, in the order sealed, then theirs.
      const own = steps.flatMap((s) => s.sealed.filter((x) => x.to.includes(0)).map((x) => x.env));
      const looped = steps.slice(1).map((s) => (s.input as { envelope: Envelope }).envelope);
      expect(looped.length).toBeGreaterThan(0);
      expect(looped).toEqual(own);
      for (let k = 0; k < looped.length; k++) expect(looped[k]).toBe(own[k]);
      expect(steps.every((s) => s.node === 0)).toBe(true);
    });

    test("deliver: a batch opened at once, then the valid ones stepped in order; the others dropped with their reason", async (c) => {
      await c.tickAll();
      await c.step(0, { kind: "submit", op: makeOp(1) });
      const mine = c.queue.filter((q) => q.to === 1);
      c.queue.length = 0;
      expect(mine.length).toBeGreaterThan(0);
      const raws: { raw: unknown; sizeBytes?: number }[] = mine.map((q) => ({
        raw: JSON.parse(JSON.stringify(q.env)),
      }));
      const forged = JSON.parse(JSON.stringify(mine[0]!.env)) as Envelope;
      forged.sig = forged.sig.replace(/^./, (ch) => (ch === "0" ? "1" : "0"));
      raws.splice(1, 0, { raw: forged }, { raw: { junk: true } });
      const from = c.log.length;
      const { verdicts, wakeAtMs } = await c.drivers[1]!.deliver(raws);
      expect(verdicts.map((v) => (v.ok ? "ok" : v.reason))).toEqual([
        "ok",
        "bad_signature",
        "malformed",
        ...mine.slice(1).map(() => "ok"),
      ]);
      // The valid ones, in order, each followed by what it looped back.
      const outer = c.log
        .slice(from)
        .filter((s) => s.input?.kind === "message" && s.input.envelope.from !== 1);
      expect(outer.map((s) => JSON.stringify((s.input as { envelope: Envelope }).envelope))).toEqual(
        mine.map((q) => JSON.stringify(q.env)),
      );
      expect(wakeAtMs).toBe(c.log[c.log.length - 1]!.fx!.wakeAtMs);
    });

    test("a send that fails is the protocol's to repair: the step goes on, the cluster gets there", async (c) => {
      await c.tickAll();
      let failed = 0;
      c.onOutput = (node, step, what) => {
        if (what === "send" && node === 0 && step.sends.length === 1 && failed++ < 3)
          throw new Error("link down");
      };
      await c.submit(makeOp(1));
      await c.run();
      c.onOutput = null;
      expect(c.drivers[0]!.sendFailures).toBe(failed);
      expect(failed).toBeGreaterThan(0);
      for (let k = 0; k < 200 && c.drivers.some((d) => d!.replica.state.lastExecuted < 1); k++) {
        await c.tickAll();
        await c.run();
      }
      for (let i = 0; i < N; i++) expect(c.drivers[i]!.replica.state.lastExecuted).toBe(1);
    });

    test("steps called while one awaits its signatures run after it, in call order", async (c) => {
      await c.tickAll();
      const from = c.log.length;
      const [a, b] = await Promise.all([
        c.step(0, { kind: "submit", op: makeOp(1) }),
        c.step(0, { kind: "submit", op: makeOp(2) }),
      ]);
      const steps = c.log.slice(from);
      expect(steps.length).toBe(a!.steps + b!.steps);
      expect(steps[0]!.input).toEqual({ kind: "submit", op: makeOp(1) });
      expect(steps[a!.steps]!.input).toEqual({ kind: "submit", op: makeOp(2) });
      expect(steps.filter((s) => s.input?.kind === "submit")).toHaveLength(2);
    });

    test("the wake-up returned is the latest step's", async (c) => {
      const r = (await c.step(0, { kind: "tick", nowMs: 1_000 }))!;
      expect(r.wakeAtMs).toBe(c.log[c.log.length - 1]!.fx!.wakeAtMs);
      expect(typeof r.wakeAtMs === "number" || r.wakeAtMs === null).toBe(true);
      const s = (await c.step(0, { kind: "submit", op: makeOp(1) }))!;
      expect(s.steps).toBeGreaterThan(1);
      expect(s.wakeAtMs).toBe(c.log[c.log.length - 1]!.fx!.wakeAtMs);
      expect(s.effects).toBe(c.log[c.log.length - s.steps]!.fx);
    });

    test("a crash right after persist loses no committed batch and sends nothing unsigned", async (c) => {
      await c.tickAll();
      await c.submit(makeOp(1));
      await c.run();
      let crashedAt = -1;
      c.crashWhen = (node, fx) => {
        if (node !== 2 || fx.executed.length === 0) return false;
        crashedAt = fx.executed[0]!.body.seq;
        return true;
      };
      await c.submit(makeOp(2));
      await c.run();
      expect(crashedAt).toBe(2);
      const crashStep = c.log.find((s) => s.node === 2 && s.fx?.executed[0]?.body.seq === 2)!;
      // Nothing of the crashed step went out: no send, no certificate.
      expect(crashStep.sends).toEqual([]);
      expect(crashStep.published).toBe(0);
      expect(c.certified[2]!.map((x) => x.body.seq)).toEqual([1]);

      const from = c.log.length;
      await c.restart(2);
      const r = c.drivers[2]!.replica;
      expect(r.state.lastExecuted).toBeGreaterThanOrEqual(2);
      r.checkInvariants();
      // What the restored node sends again is signed: every peer's boundary accepts it.
      for (const step of c.log.slice(from))
        for (const { env } of step.sealed) {
          if (!SELF_CERTIFYING.has(env.msg.type)) expect(env.sig).not.toBe("");
          expect(await c.boundaries[(env.from + 1) % N]!.verifyEnvelope(env)).toBe(true);
        }
      await c.run();
      await c.submit(makeOp(3));
      await c.run();
      for (let i = 0; i < N; i++) expect(c.drivers[i]!.replica.state.lastExecuted).toBe(3);
      expect(c.certified[2]!.map((x) => x.body.seq)).toContain(3);
      expect(c.certified[2]!.find((x) => x.body.seq === 3)!.body).toEqual(
        c.certified[0]!.find((x) => x.body.seq === 3)!.body,
      );
    });

    test("a step that throws leaves nothing behind: the node restores to before it", async (c) => {
      await c.tickAll();
      await c.submit(makeOp(1));
      await c.run();
      const before = c.storages[3]!.readRows();
      const root = c.drivers[3]!.replica.state.sm.stateRoot();
      c.throwInExecute = 3;
      let threw = false;
      c.crashWhen = null;
      const original = c.drivers[3]!;
      await c.submit(makeOp(2), [0, 1, 2]);
      // Deliver until node 3 executes seq 2 (its step throws), then restart it from its rows.
      for (let k = 0; k < 20_000 && c.queue.length; k++) {
        const { to, env } = c.queue.shift()!;
        const d = c.drivers[to];
        if (!d) continue;
        const opened = await d.open(env);
        if (!opened.ok) continue;
        try {
          await d.step({ kind: "message", envelope: opened.envelope });
        } catch (e) {
          expect(to).toBe(3);
          expect((e as Error).message).toBe("planted failure in execute");
          threw = true;
          c.drivers[3] = null;
        }
      }
      expect(threw).toBe(true);
      expect(original.replica.state.lastExecuted).toBeGreaterThanOrEqual(1);
      await c.restart(3);
      const r = c.drivers[3]!.replica;
      expect(r.state.lastExecuted).toBe(1);
      expect(r.state.sm.stateRoot()).toBe(root);
      expect(before.length).toBeGreaterThan(0);
      await c.run();
      await c.tickAll();
      await c.submit(makeOp(3));
      await c.run();
      for (let k = 0; k < 60 && c.drivers[3]!.replica.state.lastExecuted < 3; k++) {
        await c.tickAll();
        await c.run();
      }
      expect(c.drivers[3]!.replica.state.lastExecuted).toBe(3);
    });

    test("a node restored from its rows carries on where it was", async (c) => {
      await c.tickAll();
      for (let s = 1; s <= 3; s++) {
        await c.submit(makeOp(s));
        await c.run();
      }
      const before = c.drivers[1]!.replica.state;
      const at = { exec: before.lastExecuted, root: before.sm.stateRoot(), logRoot: before.logRoot };
      c.drivers[1] = null;
      await c.restart(1);
      const r = c.drivers[1]!.replica;
      expect({ exec: r.state.lastExecuted, root: r.state.sm.stateRoot(), logRoot: r.state.logRoot }).toEqual(
        at,
      );
      await c.run();
      for (let s = 4; s <= 5; s++) {
        await c.submit(makeOp(s));
        await c.run();
      }
      expect(r.state.lastExecuted).toBe(5);
      expect(c.certified[1]!.map((x) => x.body.seq)).toEqual([1, 2, 3, 4, 5]);
    });
  });
}
