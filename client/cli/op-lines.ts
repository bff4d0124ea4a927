/** `aspec batch FILE`: the file's JSON lines as op intents, or a `UsageError` naming the line. */
import type { TypeName } from "../../shared/datatypes/index.js";
import type { OpIntent } from "../build-op.js";
import { UsageError } from "./args.js";

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * One op per non-blank line: `{"key", "type", "op", "args"}` and nothing else. Only the shape is
 * checked here; the SDK checks each op as the server will before any is signed.
 */
export function parseOpLines(text: string, file: string): OpIntent[] {
  const out: OpIntent[] = [];
  for (const [i, line] of text.split("\n").entries()) {
    if (line.trim() === "") continue;
    const where = `${file}:${i + 1}`;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new UsageError(`${where}: not JSON`);
    }
    if (
      !isObject(v) ||
      typeof v.key !== "string" ||
      typeof v.type !== "string" ||
      typeof v.op !== "string" ||
      !isObject(v.args) ||
      Object.keys(v).length !== 4
    )
      throw new UsageError(`${where}: an op is {"key", "type", "op", "args"} (args an object)`);
    out.push({ key: v.key, type: v.type as TypeName, op: v.op, args: v.args as OpIntent["args"] });
  }
  if (out.length === 0) throw new UsageError(`${file}: no ops`);
  return out;
}
