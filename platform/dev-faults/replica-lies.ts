/**
 * DEV ONLY: a replica that lies (tests and demos of what clients must catch). Pure functions that
 * rewrite a reply before the replica signs it, so every lie is signed by its liar (attributable):
 * the fault wrapper (./replica.ts) rewrites each reply with `lie` before its replica's plain signer
 * signs it.
 *
 * - `lieTentative`: tentative values are wrong (`wrongValue`).
 * - `lieCertified`: certified values (a read's certified section, a certified read, an op's
 *   certified result) are wrong while proof and certificate stay the real ones: the proof then
 *   fails against the certificate's root, which a verifying client checks.
 * - `forgeCertificate`: the certificate a reply carries claims `body.seq` + 1000, a seq that does
 *   not exist (its signatures no longer verify).
 * - `dropOps` is not a reply rewrite: `withholdsOps` says what the wrapper keeps back.
 * - `replayOld`: a read is answered with the first signed read of that key kept since the fault
 *   was seen (`ReplayedReads`): a genuine signed reply, just not this request's (its nonce is
 *   another's), which is what anyone holding an old reply can serve.
 */
import type { Json } from "../../shared/canonical.js";
import type { StateValue } from "../../shared/certified/proofs.js";
import type { Certificate } from "../../shared/certified/types.js";
import type {
  ReadReply,
  CertificateReply,
  CertifiedReadReply,
  CertifiedValue,
  OpReply,
  OpStatusReply,
  TentativeResult,
  Unsigned,
} from "../../shared/replies.js";
import type { Faults } from "./replica-faults.js";

/** The seq a forged certificate claims beyond the real one. */
export const FORGED_SEQ_OFFSET = 1000;
/** What a lie adds to a number (a counter, an account balance). */
export const LIE_DELTA = 1000;
/** The element a lie adds to a set (sorted last among ordinary strings). */
export const LIE_ELEMENT = "\u{10FFFF}lie";

/** The replies a lying replica rewrites. */
export type LieableReply =
  | Unsigned<OpReply>
  | Unsigned<ReadReply>
  | Unsigned<OpStatusReply>
  | Unsigned<CertifiedReadReply>
  | Unsigned<CertificateReply>;

/** Whether any reply lie is on (such replies are neither cached nor served from the edge's cache). */
export const lies = (f: Faults): boolean =>
  f.lieTentative === true || f.lieCertified === true || f.forgeCertificate === true;

/** Whether the replica keeps its own ops back from the queue, its peers and the PBFT nodes. */
export const withholdsOps = (f: Faults): boolean => f.dropOps === true;

/**
 * A value that differs from `v`, of the same shape where it can: a number + 1000, a set (array)
 * with an extra element; anything else (a register's value, absent) replaced.
 */
export function wrongValue(v: Json): Json {
  if (typeof v === "number") return v + LIE_DELTA;
  if (Array.isArray(v)) return v.includes(LIE_ELEMENT) ? v.slice(0, -1) : [...v, LIE_ELEMENT];
  return { lie: v };
}

const wrongTentative = (t: TentativeResult): TentativeResult => ({ ...t, value: wrongValue(t.value) });

/** A key claimed with a wrong value; an absent key claimed present (a counter of 1000). */
function wrongStateValue(v: StateValue | null): StateValue {
  if (v === null) return { type: "counter", value: LIE_DELTA, stateHash: "0".repeat(64) };
  return { ...v, value: wrongValue(v.value) };
}

const wrongCertified = (c: CertifiedValue): CertifiedValue => ({ ...c, value: wrongStateValue(c.value) });

function forged(c: Certificate | null): Certificate | null {
  return c && { ...c, body: { ...c.body, seq: c.body.seq + FORGED_SEQ_OFFSET } };
}

/** `reply` as a replica under `faults` tells it (unchanged without reply lies). */
export function lie<R extends LieableReply>(faults: Faults, reply: R): R {
  if (!lies(faults)) return reply;
  const r: LieableReply = { ...reply };
  if (faults.lieTentative) {
    if (r.kind === "op") r.tentative = wrongTentative(r.tentative);
    if (r.kind === "read") r.value = wrongValue(r.value);
    if (r.kind === "op-status" && r.tentative) r.tentative = wrongTentative(r.tentative);
  }
  if (faults.lieCertified) {
    if (r.kind === "read" && r.certified) r.certified = wrongCertified(r.certified);
    if (r.kind === "certified-read") r.certified = wrongCertified(r.certified);
    if (r.kind === "op-status" && r.certified)
      r.certified = {
        ...r.certified,
        result: { ...r.certified.result, value: wrongValue(r.certified.result.value) },
      };
  }
  if (faults.forgeCertificate) {
    if (r.kind === "certified-read") r.certificate = forged(r.certificate)!;
    else r.certificate = forged(r.certificate);
  }
  return r as R;
}

/** Old signed reads kept per key for `replayOld` (at most this many keys; memory only). */
export const REPLAYED_KEYS_MAX = 64;

/**
 * `replayOld`: the first read of a key signed while the fault is on is kept and served again for
 * every later read of that key, instead of a fresh one. Switched off, the kept replies are dropped.
 */
export class ReplayedReads {
  readonly #kept = new Map<string, ReadReply>();

  async read(faults: Faults, key: string, fresh: () => Promise<ReadReply>): Promise<ReadReply> {
    if (faults.replayOld !== true) {
      this.#kept.clear();
      return fresh();
    }
    const old = this.#kept.get(key);
    if (old) return old;
    const reply = await fresh();
    if (this.#kept.size >= REPLAYED_KEYS_MAX) this.#kept.delete(this.#kept.keys().next().value as string);
    this.#kept.set(key, reply);
    return reply;
  }
}
