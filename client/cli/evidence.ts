/** `aspec evidence submit FILE`: send evidence (shared/evidence.ts) to `POST /v1/evidence`. */
import { readFile } from "node:fs/promises";
import { submitEvidence, type EvidenceSubmission } from "../evidence.js";
import { UsageError } from "./args.js";

export interface EvidenceCommand {
  kind: "evidence";
  action: "submit";
  file: string;
}

export const EVIDENCE_HELP = `usage: aspec evidence submit FILE [--endpoint URL] [--json]

Submit evidence (a JSON file: a replica-signed reply that a certificate or proof contradicts, or two
certificates of one seq) to POST /v1/evidence. Accepted evidence against a replica quarantines it.

example: aspec evidence submit ./weur-lie.json

exit codes: 0 accepted (also a replay of evidence accepted before), 1 refused (invalid_evidence,
            with the reason) or the file is unreadable, 2 usage error`;

export function parseEvidence(pos: string[]): EvidenceCommand {
  if (pos[1] !== "submit" || pos.length !== 3) throw new UsageError("usage: aspec evidence submit FILE");
  return { kind: "evidence", action: "submit", file: pos[2]! };
}

export function submissionLine(r: EvidenceSubmission): string {
  const v = r.verdict;
  const replica = v.kind === "cluster_equivocation" ? undefined : v.replica;
  const against =
    v.kind === "cluster_equivocation" ? `nodes ${v.nodes.join(", ")} (seq ${v.seq})` : `replica ${v.replica}`;
  const outcome = {
    quarantined: `${replica} is quarantined`,
    already_quarantined: `${replica} was already quarantined (by ${r.quarantine?.kind ?? "other evidence"})`,
    recorded: "recorded",
    not_recorded: "verified, not stored (the cluster evidence bound is reached)",
    replay: "accepted before: nothing changed",
  }[r.outcome];
  return `accepted: ${v.kind} against ${against}: ${outcome}  [digest ${v.digest}] ${v.detail}`;
}

/** Run the command; resolves to the exit code (errors from the server are thrown to the CLI's handler). */
export async function runEvidence(
  cmd: EvidenceCommand,
  endpoint: string,
  print: (value: unknown, human: () => string) => number,
): Promise<number> {
  let evidence: unknown;
  try {
    evidence = JSON.parse(await readFile(cmd.file, "utf8"));
  } catch (e) {
    throw new Error(`cannot read evidence from ${cmd.file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const r = await submitEvidence(endpoint, evidence);
  return print(r, () => submissionLine(r));
}
