/**
 * Internal invariants of a replica's state. A violation is a bug: the simulator checks them after
 * every step, production may check them after restore.
 */
import { opIdOf } from "../ops.js";
import { quorum } from "./config.js";
import type { ReplicaState } from "./state.js";

/**
 * The cheap check every step ends with (O(1)): a violation is a bug, and the shell lets the
 * object restart rather than persist or send anything of that step.
 */
export function stepInvariants(s: ReplicaState): void {
  const ok =
    s.lastExecuted >= s.stable.seq &&
    s.stableHeader.seq === s.stable.seq &&
    s.uncertifiedFrom <= s.lastExecuted + 1 &&
    s.pool.size <= s.cfg.poolSizeMax &&
    s.uncertified.size <= s.cfg.uncertifiedMax &&
    s.certificates.size <= s.cfg.certificatesKeptMax &&
    (!s.normal || s.nextSeq > s.stable.seq) &&
    (s.transfer === null || s.transfer.checkpoint.seq > s.stable.seq);
  if (ok) return;
  invariants(s, false); // names the broken one (and throws)
  throw new Error(`pbft invariant (node ${s.me}): step invariants`);
}

/** Throws on the first broken invariant. `deep` also walks the pool (O(pool)). */
export function invariants(s: ReplicaState, deep = true): void {
  const fail = (what: string): never => {
    throw new Error(`pbft invariant (node ${s.me}): ${what}`);
  };
  const K = s.cfg.checkpointIntervalSeqs;
  if (s.stable.seq % K !== 0) fail("stable checkpoint not on an interval");
  if (s.lastExecuted < s.stable.seq) fail("executed below the stable checkpoint");
  if (s.stableHeader.seq !== s.stable.seq) fail("stable header does not match its proof");
  if (s.stableHandle.root !== s.stableHeader.stateRoot) fail("stable state kept is not the checkpoint's");
  if (s.stable.seq > 0 && s.stable.proof.length < quorum(s.f)) fail("stable checkpoint without a quorum");
  if (s.pool.size > s.cfg.poolSizeMax) fail("pool over its limit");
  if (s.uncertified.size > s.cfg.uncertifiedMax) fail("uncertified over its limit");
  if (s.skipped.size > s.cfg.uncertifiedMax) fail("skipped over its limit");
  if (s.peerUncertifiedFrom.size >= s.n) fail("more peer reports than peers");
  if (s.certificates.size > s.cfg.certificatesKeptMax) fail("certificates over their limit");
  if (s.viewChanges.size > s.n) fail("more view changes than nodes");
  if (s.opCount < s.stableHeader.opCount) fail("op count went backwards");
  if (s.uncertifiedFrom > s.lastExecuted + 1) fail("uncertifiedFrom beyond execution");
  for (const [seq, slot] of s.slots) {
    if (slot.seq !== seq) fail(`slot ${seq} keyed wrongly`);
    if (seq <= s.stable.seq || seq > s.stable.seq + s.cfg.logWindowSeqs)
      fail(`slot ${seq} outside the window`);
    if (slot.view > s.view) fail(`slot ${seq} in a future view`);
    if ((slot.digest === null) !== (slot.proposal === null)) fail(`slot ${seq} digest/proposal mismatch`);
    if (slot.proposal && slot.proposal.ops.length > s.cfg.batchSizeMax)
      fail(`slot ${seq} batch over its limit`);
    if (seq <= s.lastExecuted && !slot.commitProof) fail(`slot ${seq} executed without a commit proof`);
    if (slot.commitProof) {
      const d = slot.commitProof[0]?.msg.digest;
      const from = new Set(slot.commitProof.map((c) => c.from));
      if (from.size < quorum(s.f) || slot.commitProof.some((c) => c.msg.digest !== d || c.msg.seq !== seq))
        fail(`slot ${seq} commit proof invalid`);
      if (!slot.committedProposal) fail(`slot ${seq} committed without its proposal`);
    }
    if (slot.preparedCert && slot.preparedCert.prepares.length < quorum(s.f))
      fail(`slot ${seq} prepared without a quorum`);
  }
  for (const seq of s.checkpoints.keys()) if (seq <= s.stable.seq) fail(`checkpoint ${seq} not collected`);
  const t = s.transfer;
  if (t && t.pending.size + t.fetched.size + t.reused.size === 0) fail("state transfer with nothing in it");
  if (!deep) return;
  for (const seq of s.uncertified.keys()) if (seq > s.lastExecuted) fail(`uncertified ${seq} not executed`);
  for (const seq of s.skipped.keys())
    if (seq > s.lastExecuted || s.uncertified.has(seq)) fail(`skipped ${seq} beyond execution or executed`);
  for (const [id, e] of s.pool) {
    if (opIdOf(e.op) !== id) fail(`pool entry ${id} keyed wrongly`);
    if (s.sm.hasExecuted(e.op)) fail(`executed op ${id} still pooled`);
  }
  for (const id of s.unproposed) if (!s.pool.has(id)) fail(`unproposed ${id} not pooled`);
}
