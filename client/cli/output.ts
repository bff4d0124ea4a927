/** Human-readable lines for the CLI (with `--json` the replies are printed as they came). */
import type { OpReply, ReadReply, ReplicaInfo } from "../../shared/replies.js";

const show = (v: unknown) => JSON.stringify(v);

export function opLine(r: OpReply): string {
  const t = r.tentative;
  const status =
    t.status === "rejected"
      ? `rejected (${t.reason ?? "no reason"})`
      : t.superseded
        ? "ok, superseded (the register already held a later write, shown)"
        : "ok";
  const dup = r.duplicate ? " duplicate" : "";
  return `${status}${dup}: ${r.type} ${show(r.key)} = ${show(t.value)}  [replica ${r.replica}, op ${r.opId}, uncertified ${r.uncertified}]`;
}

export function readLine(r: ReadReply): string {
  const type = r.type ?? "unwritten";
  // The SDK does not check certificates yet: say so rather than imply they were.
  const cert = r.certificate ? `certificate seq ${r.certificate.body.seq}, unchecked` : "no certificate yet";
  return `${show(r.key)} = ${show(r.value)}  [${type}, replica ${r.replica}, ${cert}]`;
}

export function replicaLines(rs: readonly ReplicaInfo[]): string[] {
  const w = Math.max(...rs.map((r) => r.name.length));
  const wr = Math.max(...rs.map((r) => r.region.length));
  return rs.map((r) => `${r.name.padEnd(w)}  ${r.region.padEnd(wr)}  ${r.publicKey}`);
}
