/**
 * Tentative = certified + the ops not certified yet (docs/architecture.md, "Tentative state"): what
 * the EdgeReplica's op log does when its certified side moves (durable-objects/certified-replica.ts
 * calls these inside its own transaction). A certified batch marks its ops certified here and
 * rebuilds the keys they touch; an adopted state transfer rebuilds the keys it changed (or all).
 */
import type { KeyRecord } from "../shared/materialize.js";
import { rebaseRecord } from "../shared/materialize.js";
import { opIdOf } from "../shared/ops.js";
import type { CertifiedOpSink, TransferSink } from "./certified-replica.js";
import type { ReplicaStore } from "./storage/replica-store.js";

type CertifiedRecord = (key: string) => KeyRecord | undefined;

/** `keys` rebuilt from their certified records and their pending effects, in a few statements. */
export function rebase(store: ReplicaStore, keys: Iterable<string>, certified: CertifiedRecord): void {
  const all = [...keys];
  const pending = store.ops.pendingEffectsOf(all);
  store.records.putMany(all.map((key) => [key, rebaseRecord(certified(key), pending.get(key) ?? [])]));
}

/** A certified batch's ops marked certified (`me`'s own off their clients' counts), their keys rebuilt. */
export function certifiedOpSink(store: ReplicaStore, me: () => string | null): CertifiedOpSink {
  return {
    markCertified: (ops, certified) => {
      const keys = new Set<string>();
      const ids: { opId: string; client: string }[] = [];
      for (const op of ops) {
        if (typeof op?.client !== "string" || !Number.isSafeInteger(op.seq)) continue;
        ids.push({ opId: opIdOf(op), client: op.client });
        if (typeof op.key === "string") keys.add(op.key);
      }
      for (const held of store.ops.markCertifiedMany(ids, me() ?? "")) keys.add(held);
      rebase(store, keys, certified);
    },
  };
}

/** What an adopted certified state asks of the op log: its uncertified ops, and keys rebuilt. */
export function transferSink(store: ReplicaStore): TransferSink {
  return {
    uncertifiedOps: () => store.ops.uncertified(),
    rebuild: (keys, all, certified) =>
      rebase(store, all ? new Set([...keys, ...store.records.keys()]) : keys, certified),
  };
}
