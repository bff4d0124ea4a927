/** The registry of data types, by the `type` name carried in an operation. */
import type { DataType } from "./datatype.js";
import { account } from "./account.js";
import { counter } from "./counter.js";
import { namespace } from "./namespace.js";
import { orset } from "./orset.js";
import { register } from "./register.js";

export const DATA_TYPES = { counter, register, set: orset, account, namespace } as const;
export type TypeName = keyof typeof DATA_TYPES;
export const TYPE_NAMES = Object.keys(DATA_TYPES) as TypeName[];

// Erased view used by code that handles every type alike (replicas, the certified state machine).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDataType = DataType<any, any>;
export const dataType = (t: TypeName): AnyDataType => DATA_TYPES[t] as AnyDataType;
/** Own names only: `in` would also accept `toString`, `__proto__`, … from Object.prototype. */
export const isTypeName = (t: unknown): t is TypeName =>
  typeof t === "string" && Object.hasOwn(DATA_TYPES, t);

export type { DataType, Decision, DecideOrder, OpContext, OpStatus } from "./datatype.js";
