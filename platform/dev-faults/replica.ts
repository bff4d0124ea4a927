/**
 * DEV ONLY: the fault wrapper around a replica's boundary (platform/replica-boundary.ts). Each fault
 * of ./replica-faults.ts acts on what the replica sends, signs or takes in, never on what it decides:
 * lies rewrite a reply before the plain signer signs it, lost or failing queue sends and withheld
 * own ops act on the sends, refusals on the incoming calls. The faults are kept in the replica's
 * SQLite (`faults`), so they survive an eviction, and read once per instance.
 */
import { faultInjectionAllowed } from "../../shared/config.js";
import type { ReadReply, ReplicaReply, Unsigned } from "../../shared/replies.js";
import type { FaultHost, Installed } from "../dev-faults-hook.js";
import type { ReplicaBoundary } from "../replica-boundary.js";
import { parseFaults, type Faults } from "./replica-faults.js";
import { lie, lies, ReplayedReads, withholdsOps, type LieableReply } from "./replica-lies.js";

const SCHEMA = "CREATE TABLE IF NOT EXISTS faults (name TEXT PRIMARY KEY, v TEXT NOT NULL)";

/** The faults as stored in a replica's SQLite, and their switch. */
class StoredFaults {
  #faults: Faults | undefined;

  constructor(
    private readonly sql: SqlStorage,
    private readonly env: FaultHost["env"],
  ) {
    sql.exec(SCHEMA);
  }

  /** The faults in force: none while the gate is shut (outside dev), whatever is stored. */
  get(): Faults {
    if (!faultInjectionAllowed(this.env, this.env.FAULT_TOKEN)) return {};
    if (this.#faults === undefined) {
      const out: Record<string, unknown> = {};
      for (const r of this.sql.exec<{ name: string; v: string }>("SELECT name, v FROM faults"))
        out[r.name] = JSON.parse(r.v);
      this.#faults = out as Faults;
    }
    return this.#faults;
  }

  /** Replace the stored faults (parsed: unknown names and non-booleans refused); returns them. */
  set(raw: unknown): Faults {
    const parsed = parseFaults(raw);
    if (!parsed.ok) throw new Error(parsed.reason);
    this.sql.exec("DELETE FROM faults");
    for (const [k, v] of Object.entries(parsed.faults))
      this.sql.exec("INSERT INTO faults (name, v) VALUES (?, ?)", k, JSON.stringify(v));
    this.#faults = parsed.faults;
    return parsed.faults;
  }
}

/** `plain` wrapped with the faults kept in `host.sql`, and their switch. */
export function replicaWithFaults(plain: ReplicaBoundary, host: FaultHost): Installed<ReplicaBoundary> {
  const stored = new StoredFaults(host.sql, host.env);
  const replays = new ReplayedReads();
  const boundary: ReplicaBoundary = {
    async sign<T extends ReplicaReply>(secret: string, body: Unsigned<T>): Promise<T> {
      const f = stored.get();
      if (body.kind === "evidence") return plain.sign(secret, body);
      const told = () => plain.sign<T>(secret, lie(f, body as LieableReply) as Unsigned<T>);
      if (body.kind !== "read") return told();
      return (await replays.read(
        f,
        (body as Unsigned<ReadReply>).key,
        told as () => Promise<ReadReply>,
      )) as T;
    },
    async sendReplicate(messages) {
      const f = stored.get();
      if (messages.length === 0) return;
      if (f.failQueueSends) throw new Error("fault injected: the replicate queue refuses sends");
      if (f.dropQueueSends || withholdsOps(f)) {
        console.log({ event: "fault_drop_queue_sends", messages: messages.length });
        return;
      }
      return plain.sendReplicate(messages);
    },
    submitToNodes: async (ops) => (withholdsOps(stored.get()) ? [] : plain.submitToNodes(ops)),
    servePage: (entries, head) => plain.servePage(withholdsOps(stored.get()) ? [] : entries, head),
    certifiedHead(head) {
      const told = plain.certifiedHead(head);
      // a lying replica's certified reads must not be cached, nor answered from the cache
      return lies(stored.get()) ? { ...told, noStore: true } : told;
    },
    admit(call) {
      const f = stored.get();
      if (call === "remote" && f.refuseRemote) throw new Error("fault injected: refuses remote ops");
      if (call === "certified" && f.refuseCertified)
        throw new Error("fault injected: refuses certified batches");
      if (call === "certified" && f.dropCertified) {
        console.log({ event: "fault_drop_certified" });
        return "drop";
      }
      return plain.admit(call);
    },
  };
  return {
    boundary,
    faults: { set: (raw) => ({ ...stored.set(raw) }), current: () => ({ ...stored.get() }) },
  };
}
