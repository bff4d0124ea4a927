/**
 * The client ops a simulation submits: eight keys over the four data types, small arguments, or
 * (`big`) keys, register values and set elements near their byte limits, so that batches and the
 * messages carrying them come near the message limits.
 */
import type { OpBody } from "../../shared/ops.js";
import { KEY_BYTES_MAX } from "../../shared/ops.js";
import { REGISTER_VALUE_BYTES_MAX } from "../../shared/datatypes/register.js";
import { SET_ELEMENT_BYTES_MAX } from "../../shared/datatypes/orset.js";
import type { Prng } from "./prng.js";

export function opBodyFor(rng: Prng, client: string, seq: number, ts: number, big = false): OpBody {
  const k = rng.int(0, 7);
  const amount = rng.int(1, 20);
  const pad = (s: string, bytes: number) => s + "~".repeat(Math.max(0, bytes - s.length));
  const key = big ? pad(`k${k}-`, KEY_BYTES_MAX - rng.int(0, 8)) : `k${k}`;
  // A JSON string's canonical size is its length plus two quotes.
  const value = big ? pad(`v${amount}-`, REGISTER_VALUE_BYTES_MAX - 2 - rng.int(0, 64)) : `v${amount}`;
  const element = big ? pad(`x${amount % 5}-`, SET_ELEMENT_BYTES_MAX - rng.int(0, 8)) : `x${amount % 5}`;
  const shapes: [OpBody["type"], string, OpBody["args"]][] = [
    ["counter", "add", { n: amount }],
    ["register", "set", { v: value }],
    ["set", rng.chance(0.7) ? "add" : "remove", { x: element }],
    ["account", rng.chance(0.6) ? "deposit" : "withdraw", { n: amount }],
  ];
  const [type, op, args] = shapes[k >> 1]!;
  // deletes of every type, and register CASes expecting a value some write may have left
  if (rng.chance(0.1)) return { client, seq, key, type, op: "delete", args: {}, ts };
  // who may write: claims of a key's namespace (racing), grants to everyone and their revocation
  // (by whoever sends them: a non-owner's is certified rejected), so writes race grants and revokes
  if (!big && rng.chance(0.15)) {
    // only two namespaces can be claimed (the accounts' k6, k7): the other six stay open, so a claim
    // never shuts most clients out of the rest of the plan
    const nsKey = `@k${6 + (k & 1)}`;
    const pick = rng.int(0, 2);
    if (pick === 0) return { client, seq, key: nsKey, type: "namespace", op: "claim", args: {}, ts };
    if (pick === 1) {
      const role = ["writer", "account.deposit", "account.withdraw", "account.delete", "counter.add"][
        rng.int(0, 4)
      ]!;
      return { client, seq, key: nsKey, type: "namespace", op: "grant", args: { publicKey: "*", role }, ts };
    }
    return { client, seq, key: nsKey, type: "namespace", op: "revoke", args: { publicKey: "*" }, ts };
  }
  if (type === "register" && rng.chance(0.3))
    return {
      client,
      seq,
      key,
      type,
      op: "cas",
      args: { expected: rng.chance(0.2) ? null : `v${rng.int(1, 20)}`, v: value },
      ts,
    };
  return { client, seq, key, type, op, args, ts };
}
