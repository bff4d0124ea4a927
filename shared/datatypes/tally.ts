/**
 * The state of a number that can be deleted (`counter`, `account`): a plain number until a delete
 * reaches it, then `{ n, deleted: true }`. The mark is what makes a deleted key read as absent
 * while its total is 0, and it commutes with every other effect (a delete sets it, nothing clears
 * it), so replicas that applied the same effects hold the same state whatever the order. It lives
 * only in tentative records: the certified order removes a key whose record reads as absent, and
 * rebuilds a tentative record from the certified one and the effects not yet certified, so the mark
 * outlives no delete that is not pending any more.
 */
export type Tally = number | { n: number; deleted: true };

/** The number a tally holds. */
export const totalOf = (s: Tally): number => (typeof s === "number" ? s : s.n);

/** `n` in the shape `s` has (a deleted tally stays marked). */
export const withTotal = (s: Tally, n: number): Tally => (typeof s === "number" ? n : { n, deleted: true });

/** `n`, marked deleted. */
export const deletedTally = (n: number): Tally => ({ n, deleted: true });

/** Does the key read as present: never deleted, or something concurrent or later gave it a total? */
export const tallyPresent = (s: Tally): boolean => typeof s === "number" || s.n !== 0;
