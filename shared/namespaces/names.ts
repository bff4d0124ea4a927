/**
 * Which namespace a key is in, and where a namespace's record lives: the one rule, for the edge, the
 * replicas and the certified order alike.
 *
 * - A key's namespace is its first path segment: `wallet/alice` → `wallet`. A key without `/` is
 *   its own namespace: `hits` → `hits`.
 * - A namespace's record (owner and grants, the `namespace` data type) lives at the user-visible key
 *   `@<name>`: `@wallet`. Keys starting with `@` hold namespace records and nothing else, and a
 *   `namespace` op names no other key, so the record is part of the certified state like any key
 *   (the state root commits to every grant; a read of `@wallet` is proved like any read).
 * - A namespace that can be claimed has a name of 1 to 64 letters, digits, `.`, `_` or `-`, starting
 *   with a letter or digit (it reads the same in a URL, a log and a CLI argument). A key whose first
 *   segment is not such a name is still a valid key: its namespace can never be claimed, so it is
 *   writable exactly when the deployment lists every namespace as open (policy.ts).
 */

/** The prefix of a namespace record's key. */
export const NS_KEY_PREFIX = "@";
/** The data type of a namespace record. */
export const NAMESPACE_TYPE = "namespace";
export const NAMESPACE_NAME_MAX = 64;
const NAME_RE = new RegExp(`^[A-Za-z0-9][A-Za-z0-9._-]{0,${NAMESPACE_NAME_MAX - 1}}$`);

/** The namespace `key` belongs to: its first path segment. */
export function namespaceOf(key: string): string {
  const slash = key.indexOf("/");
  return slash < 0 ? key : key.slice(0, slash);
}

export const isNamespaceName = (name: string): boolean => NAME_RE.test(name);

/** The key of namespace `name`'s record, e.g. `@wallet`. */
export const namespaceRecordKey = (name: string): string => NS_KEY_PREFIX + name;

export const isNamespaceRecordKey = (key: string): boolean => key.startsWith(NS_KEY_PREFIX);

/** The namespace an op is about: the one its key is in, or the one a namespace op names (`@wallet`). */
export const namespaceOfOp = (op: { type: string; key: string }): string =>
  op.type === NAMESPACE_TYPE ? op.key.slice(NS_KEY_PREFIX.length) : namespaceOf(op.key);

/**
 * Why an op of `type` may not name `key`, or null: a `namespace` op names `@<name>` with a valid
 * name; no other type may name a key starting with `@`. (The key's own grammar, kv-key.ts, is
 * checked before.)
 */
export function namespaceKeyProblem(type: string, key: string): string | null {
  if (type === NAMESPACE_TYPE) {
    if (!isNamespaceRecordKey(key))
      return `a namespace op names the key '@<namespace>' (e.g. '@wallet'), not '${key}'`;
    if (!isNamespaceName(key.slice(NS_KEY_PREFIX.length)))
      return `namespace name '${key.slice(NS_KEY_PREFIX.length)}' is not 1-${NAMESPACE_NAME_MAX} letters, digits, '.', '_' or '-' starting with a letter or digit`;
    return null;
  }
  if (isNamespaceRecordKey(key))
    return `keys starting with '${NS_KEY_PREFIX}' hold namespace records: a ${type} cannot be written at '${key}'`;
  return null;
}
