/**
 * A receiver's per-origin cursor: the highest position `p` of an origin's log such that every
 * position ≤ p has been handled here (applied, or found to be a duplicate of an op already applied).
 * Positions handled out of order wait above the cursor as closed ranges until the hole below them
 * fills. Pure: the shell loads the state, calls `handle`, stores the result.
 * See docs/architecture.md ("Delivery and anti-entropy").
 */

/** Closed ranges `[from, to]`, sorted, disjoint, not adjacent, all above the cursor. */
export type Ranges = [number, number][];

export interface CursorState {
  cursor: number;
  above: Ranges;
}

export const EMPTY_CURSOR: CursorState = { cursor: 0, above: [] };

/** Whether position `pos` has been handled. */
export function isHandled(s: CursorState, pos: number): boolean {
  return pos <= s.cursor || s.above.some(([a, b]) => a <= pos && pos <= b);
}

/** The state after handling `positions` (any order, duplicates and already handled ones allowed). */
export function handle(s: CursorState, positions: readonly number[]): CursorState {
  const ranges: Ranges = s.above.map(([a, b]) => [a, b]);
  for (const p of positions) if (Number.isSafeInteger(p) && p > s.cursor) ranges.push([p, p]);
  ranges.sort((x, y) => x[0] - y[0]);
  const merged: Ranges = [];
  for (const r of ranges) {
    const last = merged[merged.length - 1];
    if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
    else merged.push(r);
  }
  let cursor = s.cursor;
  while (merged.length > 0 && merged[0]![0] <= cursor + 1) cursor = Math.max(cursor, merged.shift()![1]);
  return { cursor, above: merged };
}
