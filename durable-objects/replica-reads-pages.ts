/**
 * An EdgeReplica's answers of many entries at once, each signed as one reply: a page of keys by
 * prefix (each with its certified value as of the newest certificate), a page of namespaces, the
 * evidence held against a client. One key at a time: replica-reads.ts.
 */
import { encodeCursor, LIST_SCAN_FACTOR, listPage, type ListQuery } from "../shared/kv-list.js";
import { valueOf } from "../shared/materialize.js";
import { NS_KEY_PREFIX } from "../shared/namespaces/names.js";
import {
  NAMESPACES_LIST_MAX,
  nonceMember,
  type EvidenceReply,
  type ListReply,
  type NamespacesReply,
} from "../shared/replies.js";
import type { ReplicaParts } from "./replica-parts.js";

/** How many evidence pairs against one client a reply carries at most. */
const EVIDENCE_REPLY_MAX = 20;

/**
 * GET /v1/kv?prefix=&cursor=&limit=: one page of the tentative records in byte order of key, each
 * with its certified value as of the newest certificate (none while not `ok`).
 */
export async function list(
  p: ReplicaParts,
  name: string,
  query: ListQuery,
  nonce?: string,
): Promise<ListReply> {
  const id = await p.identity(name);
  await p.delivery.ensureTimers(name);
  await p.freshen();
  const certificate = p.certified.latestCertificate();
  const certification = p.certified.certification();
  const seq = certification === "ok" && certificate ? certificate.body.seq : null;
  // deleted keys are skipped, so a page reads up to LIST_SCAN_FACTOR × limit rows, then stops short
  const scanMax = LIST_SCAN_FACTOR * query.limit;
  const page = listPage(
    p.store.records.from(query.prefix, query.after, scanMax + 1),
    query,
    (key) => (seq === null ? null : { seq, record: p.certified.record(key) }),
    undefined,
    scanMax,
  );
  return p.boundary.sign<ListReply>(id.secret, {
    kind: "list",
    prefix: query.prefix,
    ...(query.after === null ? {} : { after: encodeCursor(query.after) }),
    entries: page.entries,
    cursor: page.cursor,
    replica: name,
    certificate,
    certification,
    time: Date.now(),
    ...nonceMember(nonce),
  });
}

/** GET /v1/namespaces: a page of the namespace records held here (the dashboard's panel). */
export async function namespaces(
  p: ReplicaParts,
  name: string,
  after: string,
  nonce?: string,
): Promise<NamespacesReply> {
  const id = await p.identity(name);
  const rows = p.store.records.namespaces(after, NAMESPACES_LIST_MAX + 1);
  const page = rows.slice(0, NAMESPACES_LIST_MAX);
  return p.boundary.sign<NamespacesReply>(id.secret, {
    kind: "namespaces",
    namespaces: page.map(([key, rec]) => ({
      name: key.slice(NS_KEY_PREFIX.length),
      members: valueOf(rec) as { [member: string]: string },
    })),
    next: rows.length > NAMESPACES_LIST_MAX ? page[page.length - 1]![0].slice(NS_KEY_PREFIX.length) : null,
    replica: name,
    time: Date.now(),
    ...nonceMember(nonce),
  });
}

/** GET /v1/clients/:client/evidence: what this replica holds against a client. */
export async function evidence(
  p: ReplicaParts,
  name: string,
  client: string,
  nonce?: string,
): Promise<EvidenceReply> {
  const id = await p.identity(name);
  const rows = p.store.evidenceOf(client, EVIDENCE_REPLY_MAX);
  return p.boundary.sign<EvidenceReply>(id.secret, {
    kind: "evidence",
    client,
    refused: rows.some((r) => r.refused),
    evidence: rows.map((r) => ({ opId: r.opId, kept: r.kept, other: r.other })),
    replica: name,
    time: Date.now(),
    ...nonceMember(nonce),
  });
}
