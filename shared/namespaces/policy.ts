/**
 * Which unclaimed namespaces anyone may write: the deployment's policy. It decides certified results
 * (an op in a closed, unclaimed namespace is certified `rejected`), so the PBFT nodes and every
 * replica must hold the same one; for now it is this one constant, compiled into both Workers.
 * `executeOps`, `MerkleStateMachine` and `submitOp` take it as a parameter (defaulting to this), so
 * it can become a field of what nodes and replicas already agree on (the cluster configuration)
 * without changing the decision.
 *
 * `*` opens every unclaimed namespace: `npm run dev`, the demo and the README's "Try it" write keys
 * (`hits`, `alice`) without setting anything up, and a namespace is closed to strangers once
 * claimed. A list of names opens those alone; an empty list opens none (no key can be written
 * without a grant, except claiming a namespace).
 */
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
