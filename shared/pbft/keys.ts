/**
 * The persistence key layout of a node, in one place: every row `Effects.persist` writes, how its
 * key is built, and how `restore` and `persist.ts` tell the kinds apart. One row per key; keys of
 * seq-numbered rows are zero-padded so that they sort in seq order.
 *
 *   meta              view, normal, view-change backoff, the NEW-VIEW that installed the view
 *   head              last executed seq, its state root, log root, op count, time
 *   stable            the stable checkpoint: proof, header, where its state is kept
 *   xfer              a state transfer in progress (its checkpoint and the peer asked)
 *   slot/<seq>        accepted proposal, prepared certificate, commit proof
 *   pool/<opId>       a client op waiting to be ordered
 *   exec/<seq>        an executed batch waiting for its certificate
 *   skip/<seq>        a seq skipped by state transfer that this node still signs for
 *   cert/<seq>        one of the last `certificatesKeptMax` certificates
 *   ckpt/<seq>        this node's own checkpoint above the stable one
 *   xpath/<path>      one subtree of that transfer: pending, reused, or its verified records
 */

const padded = (seq: number): string => String(seq).padStart(16, "0");

export const slotKey = (seq: number): string => `slot/${padded(seq)}`;
export const poolKey = (opId: string): string => `pool/${opId}`;
export const execKey = (seq: number): string => `exec/${padded(seq)}`;
export const skipKey = (seq: number): string => `skip/${padded(seq)}`;
export const certKey = (seq: number): string => `cert/${padded(seq)}`;
export const ckptKey = (seq: number): string => `ckpt/${padded(seq)}`;
/** One subtree of the state transfer in progress, by path ("" is the root): a row each, so a kept chunk writes one row. */
export const xpathKey = (path: string): string => `xpath/${path}`;
export const META_KEY = "meta";
export const STABLE_KEY = "stable";
/** The last executed seq and the log after it (the state itself is in the state machine's stores). */
export const HEAD_KEY = "head";
/** The state transfer in progress, if any. */
export const XFER_KEY = "xfer";

export type SingleRow = typeof META_KEY | typeof HEAD_KEY | typeof STABLE_KEY | typeof XFER_KEY;
export type RowFamily = "slot" | "pool" | "exec" | "skip" | "cert" | "ckpt" | "xpath";
const FAMILIES: ReadonlySet<string> = new Set<RowFamily>([
  "slot",
  "pool",
  "exec",
  "skip",
  "cert",
  "ckpt",
  "xpath",
]);
const SINGLES: ReadonlySet<string> = new Set<SingleRow>([META_KEY, HEAD_KEY, STABLE_KEY, XFER_KEY]);

/**
 * What a row key names: a single row, or a family's row with the rest of its key (a seq for
 * seq-numbered families, an op id, a path). Null for a key this layout does not know.
 */
export function parseRowKey(
  key: string,
): { kind: SingleRow } | { kind: RowFamily; rest: string; seq: number } | null {
  if (SINGLES.has(key)) return { kind: key as SingleRow };
  const slash = key.indexOf("/");
  const kind = key.slice(0, slash);
  if (slash < 0 || !FAMILIES.has(kind)) return null;
  const rest = key.slice(slash + 1);
  return { kind: kind as RowFamily, rest, seq: Number(rest) };
}
