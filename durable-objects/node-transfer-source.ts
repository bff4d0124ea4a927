/**
 * What a PBFT node serves to a replica transferring its certified state (durable-objects/
 * certified-transfer.ts asks): the certificate of its stable checkpoint, and chunks of that
 * checkpoint's state, as canonical JSON text (shared/certified/transfer-wire.ts). Bounded, and
 * never a throw on bad arguments: a refusal text instead.
 */
import { chunkRequest, chunksText, pointText, refusalText } from "../shared/certified/transfer-wire.js";
import type { Certificate } from "../shared/certified/types.js";
import type { ReplicaState } from "../shared/pbft/state.js";
import type { NodeBoundary } from "../platform/node-boundary.js";

/**
 * The certificate of the stable checkpoint (its body has the log root and op count the replica
 * resumes from); `no_checkpoint` while that seq has no certificate here (none yet, or a node that
 * skipped it). `kept`: the node's kept certificates, before the core's recent ones.
 */
export function transferPoint(
  s: ReplicaState,
  out: NodeBoundary,
  kept: (seq: number) => Certificate | undefined,
): string {
  if (!out.serves()) return refusalText("unavailable");
  const seq = s.stable.seq;
  const cert = seq > 0 ? (kept(seq) ?? s.certificates.get(seq)) : undefined;
  if (cert === undefined) return refusalText("no_checkpoint");
  return pointText(out.certificate(cert));
}

/**
 * Chunks of the stable checkpoint's state (kept readable until the next checkpoint is stable:
 * `collect`), one per asked path; another `seq` answers `not_stable` with the seq served now (the
 * replica moves to it). Bounded: TRANSFER_PATHS_MAX paths, records per chunk, bytes per answer.
 */
export function stateChunks(
  s: ReplicaState,
  out: NodeBoundary,
  seq: number,
  paths: unknown,
  recordsMax: unknown,
): string {
  if (!Number.isSafeInteger(seq) || seq < 1) return refusalText("bad_args");
  const req = chunkRequest(paths, recordsMax);
  if (req === null) return refusalText("bad_args");
  if (!out.serves()) return refusalText("unavailable");
  if (seq !== s.stable.seq) return refusalText("not_stable", s.stable.seq);
  return chunksText(s.sm, s.stableHandle, s.stable.seq, req);
}
