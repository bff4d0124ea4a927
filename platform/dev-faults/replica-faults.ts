/**
 * A replica's dev faults: what a test or demo may switch on (`POST /v1/dev/faults`, the replica's
 * `setFaults`), and how they are read from untrusted JSON. The PBFT nodes' own are in
 * ./node-faults.ts.
 */

/**
 * Faults a test or demo can switch on in dev (behind FAULT_TOKEN); installed only while the gate
 * (`faultInjectionAllowed`) allows. The lies are told by ./replica-lies.ts, through the wrapper in ./replica.ts.
 */
export type Faults = {
  /** Sends to the replicate queue are lost after the call (what a broker crash does). */
  dropQueueSends?: boolean;
  /** Sends to the replicate queue throw, as `sendBatch` does when the queue is unavailable. */
  failQueueSends?: boolean;
  /** applyRemote fails (a target that cannot take messages). */
  refuseRemote?: boolean;
  /** receiveCertified fails (a replica that cannot take certified batches). */
  refuseCertified?: boolean;
  /**
   * receiveCertified takes every certified batch and throws it away (what every queued copy lost
   * looks like: nothing is retried), catch-up's included: switched off, the replica is behind.
   */
  dropCertified?: boolean;
  /** Replies carry a wrong tentative value, still signed by the replica (an attributable lie). */
  lieTentative?: boolean;
  /** Certified values in replies are wrong, beside the real proof and certificate. */
  lieCertified?: boolean;
  /** Replies carry the latest certificate with `body.seq` + 1000 (its signatures then fail). */
  forgeCertificate?: boolean;
  /**
   * Own ops are acknowledged but never propagated: not sent to the queue, left out of the
   * anti-entropy pages served, not submitted to the PBFT nodes. Rows are kept: switched off, they go.
   */
  dropOps?: boolean;
  /** Reads are answered with an old signed reply of the same key kept from before (a replay). */
  replayOld?: boolean;
};

export const FAULT_NAMES = [
  "dropQueueSends",
  "failQueueSends",
  "refuseRemote",
  "refuseCertified",
  "dropCertified",
  "lieTentative",
  "lieCertified",
  "forgeCertificate",
  "dropOps",
  "replayOld",
] as const satisfies readonly (keyof Faults)[];

/**
 * A replica's faults from untrusted JSON: an object of known names with boolean values (`false`
 * switches one off, so it is not kept); anything else is refused with the reason.
 */
export function parseFaults(raw: unknown): { ok: true; faults: Faults } | { ok: false; reason: string } {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    return { ok: false, reason: "faults is an object of fault names to booleans" };
  const out: Faults = {};
  for (const [k, v] of Object.entries(raw)) {
    if (!(FAULT_NAMES as readonly string[]).includes(k))
      return { ok: false, reason: `unknown replica fault '${k}' (known: ${FAULT_NAMES.join(", ")})` };
    if (typeof v !== "boolean") return { ok: false, reason: `fault '${k}' takes true or false` };
    if (v) out[k as keyof Faults] = true;
  }
  return { ok: true, faults: out };
}
