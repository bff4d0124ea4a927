/** The replica schema upgrades an existing persist dir in place (additive columns, no wipe). */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { ReplicaStore } from "../../durable-objects/storage/replica-store.js";

describe("replica schema", () => {
  it("adds the delivery columns to a database from before them, keeping its rows", async () => {
    const stub = env.EDGE_REPLICA.get(env.EDGE_REPLICA.idFromName("legacy-schema"));
    await runInDurableObject(stub, (_instance, state) => {
      const sql = state.storage.sql;
      // back to the first schema: no positions, no op ts, no collected seq
      sql.exec("DROP INDEX ops_origin_pos");
      for (const [t, c] of [
        ["ops", "opos"],
        ["ops", "ts"],
        ["clients", "collected_seq"],
      ])
        sql.exec(`ALTER TABLE ${t} DROP COLUMN ${c}`);
      sql.exec("INSERT INTO ops (op_id, origin, op, status, value) VALUES ('c:1', 'weur', '{}', 'ok', '1')");
      sql.exec("INSERT INTO clients (client, max_seq, pending) VALUES ('c', 1, 1)");
      const store = new ReplicaStore(sql);
      const cols = (t: string) =>
        sql
          .exec<{ name: string }>("SELECT name FROM pragma_table_info(?)", t)
          .toArray()
          .map((r) => r.name);
      expect(cols("ops")).toEqual(expect.arrayContaining(["opos", "ts"]));
      expect(cols("clients")).toContain("collected_seq");
      expect(store.ops.count()).toBe(1);
      expect(store.collectedSeq("c")).toBe(0);
      expect(store.logs.page("weur", 0, 10)).toEqual([]); // a legacy row has no position: never re-sent
    });
  });
});
