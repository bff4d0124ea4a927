/**
 * The simulator's fault modes. Every seed draws a set of modes (from all of them, or from the
 * `--modes` list), and the modes decide its plan: which faults the run injects and how hard.
 */

/** Byzantine behaviours: what a faulty node does beyond running the real core. */
export const BYZANTINE_BEHAVIOURS = [
  /** Sends nothing at all. */
  "silent",
  /** As primary: two batches for one seq; different votes and view changes to different nodes. */
  "equivocate",
  /** Signs shares and checkpoints over wrong roots. */
  "wrong-roots",
  /** Re-sends any message it has ever seen (its own and others'), to anyone. */
  "replay",
  /** Injects junk: others' names, tampered contents, broken signatures, malformed shapes. */
  "forge",
  /** As primary of a view: different NEW-VIEWs (different VIEW-CHANGE quorums) to different nodes. */
  "new-view-equivocate",
  /** Votes and orders as usual but never sends its certificate shares. */
  "withhold-shares",
  /** Answers STATUS with STATE whose proof is valid and whose contents are tampered. */
  "tamper-state",
  /** Validly signed VIEW-CHANGE / NEW-VIEW and well-formed STATE with hostile contents. */
  "hostile-bulk",
] as const;
export type ByzantineBehaviour = (typeof BYZANTINE_BEHAVIOURS)[number];

export const OTHER_MODES = [
  /** Message loss and duplication during the fault phase. */
  "loss",
  /** Network partitions into two groups. */
  "partition",
  /** Some messages delayed up to and beyond the protocol timers. */
  "long-delay",
  /** Adversarial scheduling: one node's messages held back while the others run, then released. */
  "hold",
  /** Node clocks skewed up to the bound the core tolerates. */
  "skew",
  /** Random crash-restarts of correct nodes. */
  "crash",
  /** Every node restarts at once. */
  "deploy",
  /** A correct node crashes after persisting and before sending, or before persisting its step. */
  "crash-persist",
  /**
   * A correct node crashes midway through a persist: a prefix of the step's rows written, nothing
   * sent. Beyond the shell's contract (it writes a step's rows in one transaction): for hosts
   * without multi-row transactions.
   */
  "mid-persist",
  /** A node loses its unsynced last writes in a crash (it counts as faulty: see world.ts). */
  "lose-writes",
  /** Byzantine nodes crash and restart too. */
  "byz-crash",
  /** n = 7, f = 2 (else n = 4, f = 1). */
  "f2",
  /** Ops near the op size limits, message limits scaled down so real messages come near them. */
  "big",
] as const;
export type OtherMode = (typeof OTHER_MODES)[number];

export type Mode = ByzantineBehaviour | OtherMode;
export const MODES: readonly Mode[] = [...BYZANTINE_BEHAVIOURS, ...OTHER_MODES];

export const isByzantineBehaviour = (m: string): m is ByzantineBehaviour =>
  (BYZANTINE_BEHAVIOURS as readonly string[]).includes(m);

/** Parse a `--modes a,b,c` list; throws naming the unknown ones. */
export function parseModes(list: string): Mode[] {
  const names = list
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const unknown = names.filter((m) => !(MODES as readonly string[]).includes(m));
  if (unknown.length) throw new Error(`unknown mode(s): ${unknown.join(", ")} (known: ${MODES.join(", ")})`);
  if (names.length === 0) throw new Error("--modes needs at least one mode");
  // Canonical order, no repeats: the same list always draws the same plans.
  return MODES.filter((m) => names.includes(m));
}
