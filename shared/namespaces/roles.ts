/**
 * The roles a namespace's owner can grant, kept small and explicit:
 *
 * - `owner`: every op in the namespace, and `grant` / `revoke` on its record;
 * - `writer`: every data op in the namespace (no grants);
 * - `<type>.<op>`, e.g. `account.deposit`: that one op, nothing else (`delete` is an op like any
 *   write: `register.delete` lets a member delete a register and nothing more).
 *
 * A member holds one role (a new grant replaces it). The member `*` stands for every client: an owner
 * can open one op to everyone (`grant * account.deposit`: anyone may deposit, only the owner may
 * withdraw) or the whole namespace (`grant * writer`); `*` cannot be made an owner.
 */

export const OWNER = "owner";
export const WRITER = "writer";
/** The member that stands for every client. */
export const EVERYONE = "*";

/**
 * Every per-op right, `<type>.<op>` for each data type's ops (a unit test keeps this list equal to
 * the data types' own: it is written out here because the namespace type is itself in that registry).
 */
export const OP_RIGHTS = [
  "counter.add",
  "counter.delete",
  "register.set",
  "register.cas",
  "register.delete",
  "set.add",
  "set.remove",
  "set.delete",
  "account.deposit",
  "account.withdraw",
  "account.delete",
] as const;

export const ROLES: readonly string[] = [OWNER, WRITER, ...OP_RIGHTS];

export const isRole = (r: string): boolean => ROLES.includes(r);

/** May a member holding `role` run `type.op` (a data op)? */
export const roleAllows = (role: string, type: string, op: string): boolean =>
  role === OWNER || role === WRITER || role === `${type}.${op}`;
