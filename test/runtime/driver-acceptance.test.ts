/**
 * The driver acceptance suite (test/support/driver-acceptance.ts) over the PbftNode's storage inside
 * workerd: the core's rows in a SQLite table and the certified state in the SQLite stores, one
 * `transactionSync` per step (a step that throws is rolled back by SQLite itself). All four nodes'
 * tables live in one Durable Object here (names of their own), which changes nothing they rely on.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { PART_CHARS, sqlDriverStorage } from "../../durable-objects/storage/sql-driver-storage.js";
import { SqlNodeStore } from "../../durable-objects/storage/sql-node-store.js";
import { SqlRecordStore } from "../../durable-objects/storage/sql-record-store.js";
import { MerkleStateMachine } from "../../shared/certified/state-machine.js";
import { runDriverAcceptance, type HostNode } from "../support/driver-acceptance.js";

const host = () => env.PBFT_NODE.get(env.PBFT_NODE.idFromName("driver-acceptance-host"));
let storage: DurableObjectStorage | null = null;

/** SQL table names per node name: one short prefix each (`n1`, `n2`, …), the same on reopen. */
const prefixes = new Map<string, string>();
const tableOf = (name: string) => {
  let p = prefixes.get(name);
  if (p === undefined) prefixes.set(name, (p = `n${prefixes.size + 1}`));
  return p;
};

function nodeOn(name: string): HostNode {
  const s = storage!;
  const t = tableOf(name);
  return {
    storage: sqlDriverStorage(s, `${t}_rows`),
    sm: new MerkleStateMachine({
      records: new SqlRecordStore(s.sql, `${t}_r`),
      nodes: new SqlNodeStore(s.sql, `${t}_m`),
    }),
  };
}

runDriverAcceptance("SQLite (workerd)", {
  fresh: nodeOn,
  reopen: nodeOn,
  run: (body) =>
    runInDurableObject(host(), async (_instance, state) => {
      storage = state.storage;
      try {
        await body();
      } finally {
        storage = null;
      }
    }),
});

describe("rows bigger than a SQLite row may be (2 MB)", () => {
  it("a 5 MB value with non-ASCII text and surrogate pairs at every part boundary round-trips; smaller and deleted values leave no parts", async () => {
    await runInDurableObject(host(), async (_i, state) => {
      const s = sqlDriverStorage(state.storage, "big_rows");
      // "😀" is a surrogate pair: place one across each PART_CHARS boundary; "é" is 2 UTF-8 bytes
      const unit = "é".repeat(PART_CHARS - 1);
      const big = { ops: [unit + "😀" + unit + "😀" + unit + "😀" + "x".repeat(100), "ü".repeat(1000)] };
      s.transaction(() => s.write([{ op: "put", key: "vc/1", value: big }]));
      const parts = () =>
        state.storage.sql.exec<{ n: number }>("SELECT count(*) AS n FROM big_rows_parts").one().n;
      expect(parts()).toBeGreaterThan(3);
      expect(Object.fromEntries(s.readRows())["vc/1"]).toEqual(big);
      s.transaction(() => s.write([{ op: "put", key: "vc/1", value: { small: true } }]));
      expect(parts()).toBe(0);
      expect(Object.fromEntries(s.readRows())["vc/1"]).toEqual({ small: true });
      s.transaction(() => s.write([{ op: "put", key: "vc/2", value: big }]));
      s.transaction(() => s.write([{ op: "delete", key: "vc/2" }]));
      expect(parts()).toBe(0);
      expect(s.readRows().map(([k]) => k)).toEqual(["vc/1"]);
      // a step that throws leaves neither the row nor its parts
      expect(() =>
        s.transaction(() => {
          s.write([{ op: "put", key: "vc/3", value: big }]);
          throw new Error("step failed");
        }),
      ).toThrow("step failed");
      expect(parts()).toBe(0);
    });
  });
});
