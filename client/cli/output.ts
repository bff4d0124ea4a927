/** Human-readable lines for the CLI (with `--json` the replies are printed as they came). */
import type { Certificate } from "../../shared/certified/types.js";
import type { ClusterInfo } from "../../shared/cluster-config.js";
import type {
  CertificateReply,
  ListReply,
  OpReply,
  OpStatusReply,
  ReadReply,
  ReplicaInfo,
} from "../../shared/replies.js";

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

/** The certified value of a read (its proof was checked by the SDK), or why there is none. */
function certifiedPart(r: ReadReply): string {
  if (r.certified)
    return `certified ${show(r.certified.value?.value ?? null)} at seq ${r.certified.seq}, proof checked`;
  if (r.certification === "diverged") return "no certified value (replica diverged)";
  return r.certificate
    ? `certificate seq ${r.certificate.body.seq}, no certified value`
    : "no certificate yet";
}

export function readLine(r: ReadReply): string {
  const type = r.type ?? "unwritten";
  return `${show(r.key)} = ${show(r.value)}  [${type}, replica ${r.replica}, ${certifiedPart(r)}]`;
}

/** One `watch` line: the time, tentative vs certified. */
export function watchLine(r: ReadReply, at: Date): string {
  return `${at.toISOString()}  tentative ${show(r.value)}  ${certifiedPart(r)}  [${r.replica}]`;
}

export function replicaLines(rs: readonly ReplicaInfo[]): string[] {
  const w = Math.max(...rs.map((r) => r.name.length));
  const wr = Math.max(...rs.map((r) => r.region.length));
  return rs.map((r) => `${r.name.padEnd(w)}  ${r.region.padEnd(wr)}  ${r.publicKey}`);
}

const signers = (cert: Certificate, cluster: ClusterInfo) =>
  cert.sigs.map((s) => cluster.nodes[s.node]?.id ?? `node ${s.node}`).join(", ");

function certificateLines(cert: Certificate, cluster: ClusterInfo): string[] {
  const b = cert.body;
  return [
    `  seq ${b.seq}, view ${b.view}, ${b.opCount} ops, time ${new Date(b.time).toISOString()}`,
    `  signed by ${signers(cert, cluster)} (${cert.sigs.length} of ${cluster.n}, quorum ${2 * cluster.f + 1})`,
    `  stateRoot   ${b.stateRoot}`,
    `  resultsRoot ${b.resultsRoot}`,
    `  logRoot     ${b.logRoot}`,
  ];
}

const openLabel = (open: readonly string[]): string =>
  open.length === 0 ? "none" : open.join(",") === "*" ? "* (every one)" : open.join(", ");

export function clusterLines(cluster: ClusterInfo, latest: CertificateReply): string[] {
  const w = Math.max(...cluster.nodes.map((n) => n.id.length));
  return [
    `cluster ${cluster.cluster}: n = ${cluster.n}, f = ${cluster.f}, config digest ${cluster.configDigest}`,
    ...cluster.nodes.map((n) => `  ${n.id.padEnd(w)}  ${n.region}  ${n.publicKey}`),
    `open namespaces (writable by anyone while unclaimed): ${openLabel(cluster.openNamespaces ?? ["*"])}`,
    latest.certificate
      ? `newest certificate at replica ${latest.replica} (verified):`
      : `replica ${latest.replica} holds no certificate yet`,
    ...(latest.certificate ? certificateLines(latest.certificate, cluster) : []),
  ];
}

/** The proof chain of a verified, certified op status. */
export function verifyLines(r: OpStatusReply, cluster: ClusterInfo): string[] {
  const c = r.certified!;
  return [
    `op ${r.opId}: certified, verified (replica ${r.replica})`,
    `result: ${c.result.status}${c.result.reason ? ` (${c.result.reason})` : ""}, value ${show(c.result.value)}` +
      (r.tentative &&
      (r.tentative.status !== c.result.status || show(r.tentative.value) !== show(c.result.value))
        ? `  — the replica's tentative answer was ${r.tentative.status} ${show(r.tentative.value)}: rolled back`
        : ""),
    `certificate (${cluster.cluster}, 2f+1 valid signatures of pinned nodes):`,
    ...certificateLines(c.certificate, cluster),
    `result proof: leaf ${c.proof.index} of ${c.proof.count}, ${c.proof.path.length} sibling hash(es) up to resultsRoot`,
    ...c.proof.path.map((h, i) => `  ${i}: ${h}`),
  ];
}

/** One line per listed key: its tentative value, and its certified one as of the page's certificate. */
export function listLines(page: ListReply): string[] {
  return page.entries.map((e) => {
    const value = e.elided ? "(too large to list: aspec get it)" : show(e.value);
    const certified = e.certified
      ? `certified ${show(e.certified.value)} at seq ${e.certified.seq}`
      : "not certified here";
    return `${show(e.key)} = ${value}  [${e.type}, ${certified}]`;
  });
}
