/**
 * Who posts a certified batch for the replicas: of n nodes, node `seq mod n` posts it at once, and
 * the next node in line, `(seq + 1) mod n`, posts it again a delay later unless every replica has
 * it by then — so a silent or faulty poster costs a delay, never the seq (docs/architecture.md,
 * "Posting certificates"). The others only keep it (replicas that miss a seq fetch it from any node).
 */
export type PostingRole = "post" | "fallback" | "keep";

export function postingRole(seq: number, n: number, me: number): PostingRole {
  if (seq % n === me) return "post";
  if ((seq + 1) % n === me) return "fallback";
  return "keep";
}
