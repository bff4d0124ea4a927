/**
 * Which unclaimed namespaces anyone may write: the deployment's policy, the `OPEN_NAMESPACES` var.
 * It decides certified results (an op in a closed, unclaimed namespace is certified `rejected`), so
 * the PBFT nodes and every replica must hold the same one: it is a field of the cluster
 * configuration (`ClusterConfig.openNamespaces`, shared/cluster-config.ts), whose digest names every
 * certificate and which clients pin. `executeOps`, `MerkleStateMachine` and `submitOp` take it as a
 * parameter (defaulting to `*`, what a configuration without the field means).
 *
 * `*` opens every unclaimed namespace: `npm run dev`, the demo and the README's "Try it" write keys
 * (`hits`, `alice`) without setting anything up, and a namespace is closed to strangers once
 * claimed. A list of names opens those alone; an empty list opens none (no key can be written
 * without a grant, except claiming a namespace).
 */
import { AspecError } from "../errors.js";
import { isNamespaceName } from "./names.js";

/** In `open`: every unclaimed namespace. */
export const OPEN_ALL = "*";

export interface NamespacePolicy {
  /** Namespace names anyone may write while unclaimed, or `*` for every one. */
  readonly open: readonly string[];
}

/** The policy every node and replica runs. */
export const NAMESPACE_POLICY: NamespacePolicy = { open: [OPEN_ALL] };

/** May anyone write in namespace `name` while it is unclaimed? */
export const isOpen = (policy: NamespacePolicy, name: string): boolean =>
  policy.open.includes(OPEN_ALL) || policy.open.includes(name);

/** The policy of a cluster configuration (absent field: `*`). */
export const policyOf = (config: {
  readonly openNamespaces?: readonly string[] | undefined;
}): NamespacePolicy =>
  config.openNamespaces === undefined ? NAMESPACE_POLICY : { open: config.openNamespaces };

/** Is `open` the default list (`*` alone), which a configuration may leave out? */
export const isDefaultOpen = (open: readonly string[]): boolean => open.length === 1 && open[0] === OPEN_ALL;

/** Why `open` is not a list in normal form (`["*"]`, or distinct namespace names sorted), or null. */
export function openListProblem(open: readonly unknown[]): string | null {
  if (open.includes(OPEN_ALL)) return open.length === 1 ? null : "'*' (every namespace) stands alone";
  for (const [i, n] of open.entries()) {
    if (typeof n !== "string" || !isNamespaceName(n))
      return `'${String(n)}' is not a namespace name (1-64 letters, digits, '.', '_' or '-', starting with a letter or digit)`;
    if (i > 0 && (open[i - 1] as string) >= n) return "names must be distinct and sorted";
  }
  return null;
}

/**
 * `OPEN_NAMESPACES`, the one parser: unset or `*`, every unclaimed namespace; a comma-separated list
 * of namespace names (spaces around commas allowed), those alone; empty, none. Returned sorted, so
 * `a,b` and `b,a` make one configuration. Anything else (an empty item, a name that is not one, a
 * repeated name, `*` beside names) throws `not_configured`: the Worker refuses to serve rather than
 * guess which namespaces a typo meant to open.
 */
export function parseOpenNamespaces(raw: string | undefined): readonly string[] {
  if (raw === undefined) return [OPEN_ALL];
  const bad = (why: string) =>
    new AspecError("not_configured", `OPEN_NAMESPACES ${why}`, {
      var: "OPEN_NAMESPACES",
      fix: "'*' (every unclaimed namespace), a comma-separated list of namespace names, or empty (none)",
    });
  if (typeof raw !== "string") throw bad("is not a string");
  if (raw.trim() === "") return [];
  const items = raw.split(",").map((x) => x.trim());
  if (items.includes("")) throw bad("has an empty item (two commas, or one at an end)");
  if (items.includes(OPEN_ALL)) {
    if (items.length > 1) throw bad("lists '*' (every namespace) beside names");
    return [OPEN_ALL];
  }
  const sorted = [...items].sort();
  for (const [i, n] of sorted.entries()) {
    if (!isNamespaceName(n))
      throw bad(
        `'${n}' is not a namespace name (1-64 letters, digits, '.', '_' or '-', starting with a letter or digit)`,
      );
    if (i > 0 && sorted[i - 1] === n) throw bad(`lists '${n}' twice`);
  }
  return sorted;
}
