/**
 * An in-test Aspec deployment for SDK unit tests, answering the client's `fetch`: replicas that sign
 * every reply with real Ed25519, a real certified state machine (`MerkleStateMachine`), and real
 * certificates signed by 2f+1 of four node keys. It is test input, not a platform mock: a test
 * certifies when it wants (`certify()`), partitions replicas, takes them down, or makes one lie
 * (`lie`: rewrite a reply before it is signed) to see what the SDK accepts.
 */
import type { ConnectOptions } from "../../client/client.js";
import type { FetchFn } from "../../client/transport.js";
import {
  combineShares,
  signShare,
  GENESIS_LOG_ROOT,
  nextLogRoot,
  batchDigest,
} from "../../shared/certified/certificate.js";
import { executeOps } from "../../shared/certified/execute.js";
import { recordStoreOver } from "../../shared/certified/record-store.js";
import { buildResultsTree, type ResultProof } from "../../shared/certified/results.js";
import { MerkleStateMachine } from "../../shared/certified/state-machine.js";
import type { Certificate, ClusterConfig, OpResult } from "../../shared/certified/types.js";
import { clusterId, configDigest, type ClusterInfo } from "../../shared/cluster-config.js";
import { devKeyPair, type KeyPair } from "../../shared/crypto/keys.js";
import type { KeyRecord } from "../../shared/materialize.js";
import { valueOf } from "../../shared/materialize.js";
import { opIdOf, parseOp, type SignedOp } from "../../shared/ops.js";
import { signErrorReply, signReply, type ReplicaReply, type TentativeResult } from "../../shared/replies.js";
import { keyFromPath } from "../../shared/kv-key.js";
import { compareKeys, encodeCursor, listPage, parseListQuery } from "../../shared/kv-list.js";
import type { AspecError } from "../../shared/errors.js";

export const CLUSTER_NAME = "aspec-test-cluster";

export interface TestCluster {
  info: ClusterInfo;
  config: ClusterConfig;
  nodes: KeyPair[];
}

export async function testCluster(seed = "sdk-test"): Promise<TestCluster> {
  const nodes = await Promise.all([0, 1, 2, 3].map((i) => devKeyPair(seed, `pbft-${i}`)));
  const config: ClusterConfig = {
    cluster: CLUSTER_NAME,
    f: 1,
    nodes: nodes.map((k, i) => ({ id: `pbft-${i}`, publicKey: k.publicKey })),
  };
  const info: ClusterInfo = {
    cluster: CLUSTER_NAME,
    n: 4,
    f: 1,
    nodes: nodes.map((k, i) => ({ id: `pbft-${i}`, region: "test", publicKey: k.publicKey })),
    configDigest: configDigest(config),
  };
  return { info, config, nodes };
}

interface Replica {
  name: string;
  key: KeyPair;
  records: Map<string, KeyRecord>;
  ops: Map<string, { op: SignedOp; tentative: TentativeResult }>;
  down: boolean;
  /** Answers 503 `replica_quarantined`, as the edge does for a quarantined replica. */
  quarantined: boolean;
}

type Path = "op" | "read" | "op-status" | "certified-read" | "certificate" | "list";
/** Rewrites a reply before its replica signs it (return it unchanged to tell the truth). */
export type Lie = (path: Path, reply: Record<string, unknown>, replica: string) => Record<string, unknown>;

export class TestDeployment {
  readonly sm = new MerkleStateMachine();
  readonly certificates: Certificate[] = [];
  readonly results = new Map<string, { seq: number; result: OpResult; proof: ResultProof }>();
  readonly requests: { method: string; path: string; replica: string }[] = [];
  /** Ops accepted and not yet certified, in arrival order. */
  pending: SignedOp[] = [];
  /** A replica applies every accepted op to every other replica at once (false: partitioned). */
  replicateTentative = true;
  /** Certify everything pending on each `GET /v1/ops/:id`. */
  autoCertify = false;
  /** Certified reads come without the request's nonce, as the edge's cache serves them. */
  cachedCertifiedReads = false;
  /** The nonce of every request, in order (undefined: sent without one). */
  readonly nonces: (string | undefined)[] = [];
  lie: Lie | undefined;
  #logRoot = GENESIS_LOG_ROOT;
  #opCount = 0;
  /**
   * The deployment's clock (ms), which tests move by hand. It starts at the wall clock, so a client
   * on `Date.now` (the CLI's) finds its certificates fresh, as it would a live cluster's.
   */
  time = Date.now();

  private constructor(
    readonly cluster: TestCluster,
    readonly replicas: Replica[],
  ) {}

  static async create(names = ["weur", "enam", "apac"], seed = "sdk-test"): Promise<TestDeployment> {
    const cluster = await testCluster(seed);
    const replicas = await Promise.all(
      names.map(async (name) => ({
        name,
        key: await devKeyPair(seed, name),
        records: new Map<string, KeyRecord>(),
        ops: new Map(),
        down: false,
        quarantined: false,
      })),
    );
    return new TestDeployment(cluster, replicas);
  }

  replica(name: string): Replica {
    const r = this.replicas.find((x) => x.name === name);
    if (!r) throw new Error(`no replica ${name}`);
    return r;
  }

  /** Options for `AspecClient.connect` against this deployment. */
  connectOptions(over: Partial<ConnectOptions> = {}): ConnectOptions {
    return {
      endpoint: "http://deployment.test",
      replicas: this.replicas.map((r) => ({ name: r.name, region: r.name, publicKey: r.key.publicKey })),
      cluster: this.cluster.info,
      retry: { attempts: 1 },
      fetch: this.fetch,
      now: () => this.time,
      ...over,
    };
  }

  latest(): Certificate | null {
    return this.certificates.at(-1) ?? null;
  }

  /**
   * Certify an empty batch at the current time, as the cluster's heartbeat does when idle (so an
   * idle deployment's newest certificate stays young).
   */
  heartbeat(): Promise<Certificate | null> {
    return this.certify(true);
  }

  /** Execute every pending op as one batch and certify it (nodes 0..2 sign). */
  async certify(empty = false): Promise<Certificate | null> {
    if (this.pending.length === 0 && !empty) return this.latest();
    const batch = this.pending;
    this.pending = [];
    const seq = this.certificates.length + 1;
    const exec = this.sm.execute(batch, seq);
    this.#logRoot = nextLogRoot(this.#logRoot, batchDigest(batch));
    this.#opCount += exec.ops.length;
    const tree = buildResultsTree(exec.results);
    exec.results.forEach((result, i) => this.results.set(result.opId, { seq, result, proof: tree.prove(i) }));
    const body = {
      cluster: clusterId(this.cluster.config),
      view: 0,
      seq,
      logRoot: this.#logRoot,
      stateRoot: exec.stateRoot,
      resultsRoot: exec.resultsRoot,
      opCount: this.#opCount,
      time: this.time,
    };
    const shares = await Promise.all([0, 1, 2].map((i) => signShare(this.cluster.nodes[i]!.secret, i, body)));
    const cert = combineShares(shares, this.cluster.config)!;
    this.certificates.push(cert);
    return cert;
  }

  readonly fetch: FetchFn = async (input, init) => {
    const url = new URL(input);
    const method = init?.method ?? "GET";
    const name = url.searchParams.get("replica") ?? this.replicas[0]!.name;
    this.requests.push({ method, path: url.pathname, replica: name });
    const nonce = new Headers(init?.headers).get("x-aspec-nonce") ?? undefined;
    this.nonces.push(nonce);
    const bound = nonce === undefined ? {} : { nonce };
    const json = (body: unknown, status = 200) =>
      new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
    if (url.pathname === "/v1/cluster") return json(this.cluster.info);
    if (url.pathname === "/v1/replicas")
      return json({
        replicas: this.replicas.map((r) => ({ name: r.name, region: r.name, publicKey: r.key.publicKey })),
      });
    const r = this.replica(name);
    if (r.down) return json({ error: { code: "unavailable", message: `${name} is down` } }, 503);
    if (r.quarantined)
      return json({ error: { code: "replica_quarantined", message: `${name} is quarantined` } }, 503);
    const signed = async (path: Path, body: Record<string, unknown>) => {
      const told = this.lie ? this.lie(path, structuredClone(body), name) : body;
      return signReply(r.key.secret, told as never as Omit<ReplicaReply, "sig">);
    };
    const sign = async (path: Path, body: Record<string, unknown>) => json(await signed(path, body));
    const refuse = async (status: number, code: string, message: string, extra: Record<string, unknown>) =>
      json(
        await signErrorReply(r.key.secret, {
          error: { code: code as never, message },
          kind: "error",
          replica: name,
          time: this.time,
          ...extra,
          ...bound,
        }),
        status,
      );
    const common = () => ({
      replica: name,
      certificate: this.latest(),
      certification: this.latest() ? "ok" : "none",
      time: this.time,
      ...bound,
    });
    const accept = async (op: SignedOp) => {
      const opId = opIdOf(op);
      const dup = r.ops.get(opId);
      let tentative: TentativeResult;
      if (dup) tentative = dup.tentative;
      else {
        const targets = this.replicateTentative ? this.replicas : [r];
        tentative = { status: "ok", value: null };
        for (const t of targets) {
          if (t.ops.has(opId)) continue;
          const res = executeOps(mapStore(t.records), [op]).results[0]!;
          const tt: TentativeResult = {
            status: res.status,
            value: res.value,
            ...(res.reason ? { reason: res.reason } : {}),
          };
          t.ops.set(opId, { op, tentative: tt });
          if (t === r) tentative = tt;
        }
        if (!r.ops.has(opId)) r.ops.set(opId, { op, tentative });
        if (!this.results.has(opId) && !this.pending.some((p) => opIdOf(p) === opId)) this.pending.push(op);
      }
      const uncertified = [...r.ops.values()].filter(
        (o) => o.op.client === op.client && !this.results.has(opIdOf(o.op)),
      ).length;
      return signed("op", {
        kind: "op",
        opId,
        key: op.key,
        type: op.type,
        tentative,
        ...common(),
        uncertified,
        duplicate: dup !== undefined,
      });
    };
    if (method === "POST" && url.pathname === "/v1/ops")
      return json(await accept(parseOp(JSON.parse(String(init?.body)))));
    if (method === "POST" && url.pathname === "/v1/ops/batch") {
      // each op as the edge answers it: parsed alone, an unparseable one refused in its place
      const ops = (JSON.parse(String(init?.body)) as { ops: unknown[] }).ops;
      const results = await Promise.all(
        ops.map(async (raw) => {
          let op: SignedOp;
          try {
            op = parseOp(raw);
          } catch (e) {
            return (e as AspecError).toBody();
          }
          return accept(op);
        }),
      );
      return json({ results });
    }
    if (method === "GET" && url.pathname === "/v1/kv") {
      const q = parseListQuery({
        prefix: url.searchParams.get("prefix") ?? undefined,
        cursor: url.searchParams.get("cursor") ?? undefined,
        limit: url.searchParams.get("limit") ?? undefined,
      });
      const cert = this.latest();
      const rows = [...r.records.entries()]
        .map(([key, record]) => ({ key, record }))
        .sort((a, b) => compareKeys(a.key, b.key))
        .filter((x) =>
          q.after === null ? compareKeys(x.key, q.prefix) >= 0 : compareKeys(x.key, q.after) > 0,
        );
      const page = listPage(rows, q, (key) =>
        cert ? { seq: cert.body.seq, record: this.sm.get(key) } : null,
      );
      return sign("list", {
        kind: "list",
        prefix: q.prefix,
        ...(q.after === null ? {} : { after: encodeCursor(q.after) }),
        entries: page.entries,
        cursor: page.cursor,
        ...common(),
      });
    }
    if (method === "GET" && url.pathname.startsWith("/v1/ops/")) {
      const opId = decodeURIComponent(url.pathname.slice("/v1/ops/".length));
      if (this.autoCertify) await this.certify();
      const stored = r.ops.get(opId);
      const res = this.results.get(opId);
      if (!stored && !res) return refuse(404, "unknown_op_id", `no op ${opId}`, { opId });
      if (!res && url.searchParams.get("wait") === "certified") await new Promise((d) => setTimeout(d, 5));
      return sign("op-status", {
        kind: "op-status",
        opId,
        tentative: stored?.tentative ?? null,
        certified: res ? { ...res, certificate: this.certificates[res.seq - 1]! } : null,
        pending: !res,
        ...common(),
      });
    }
    if (method === "GET" && url.pathname.startsWith("/v1/kv/")) {
      const key = keyFromPath(url.pathname.slice("/v1/kv/".length));
      const cert = this.latest();
      const proven = cert ? this.sm.proveKey(key) : null;
      const certified =
        cert && proven
          ? { seq: cert.body.seq, stateRoot: cert.body.stateRoot, value: proven.value, proof: proven.proof }
          : null;
      if (url.searchParams.get("view") === "certified") {
        if (!certified) return refuse(409, "not_certified", "no certified state", { key });
        return sign("certified-read", {
          kind: "certified-read",
          key,
          replica: name,
          certificate: cert,
          certified,
          time: this.time,
          ...(this.cachedCertifiedReads ? {} : bound),
        });
      }
      const rec = r.records.get(key);
      return sign("read", {
        kind: "read",
        key,
        type: rec?.type ?? null,
        value: valueOf(rec),
        ...common(),
        certified,
      });
    }
    if (method === "GET" && url.pathname === "/v1/certificates/latest")
      return sign("certificate", { kind: "certificate", ...common() });
    return json({ error: { code: "not_found", message: url.pathname } }, 404);
  };
}

// a key a delete removed leaves the Map (recordStoreOver), as it leaves a replica's state
const mapStore = recordStoreOver;
