/**
 * An EdgeReplica is one named replica: bound to the name of its first call, it refuses a call naming
 * another (never serving one replica's state as another's), and an object of an earlier version,
 * which kept its name in meta `name`, stays bound to that name.
 */
import { env, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import type { EdgeReplica } from "../../workers/index.js";

const fresh = (label: string) => env.EDGE_REPLICA.get(env.EDGE_REPLICA.idFromName(`${label}-${Date.now()}`));

describe("a replica's name", () => {
  it("is bound by the first call; a call naming another replica is refused", async () => {
    await runInDurableObject(fresh("replica-name-first"), async (instance: EdgeReplica) => {
      expect((await instance.read("enam", "k")).ok).toBe(true);
      await expect(instance.read("weur", "k")).rejects.toThrow("replica 'enam' addressed as 'weur'");
      expect((await instance.read("enam", "k")).ok).toBe(true);
    });
  });

  it("of an earlier version, kept in meta `name`, stays bound and moves to `object_name`", async () => {
    await runInDurableObject(fresh("replica-name-legacy"), async (instance: EdgeReplica, state) => {
      const sql = state.storage.sql;
      sql.exec("INSERT INTO meta (k, v) VALUES ('name', 'apac')");
      await expect(instance.read("weur", "k")).rejects.toThrow("replica 'apac' addressed as 'weur'");
      expect((await instance.read("apac", "k")).ok).toBe(true);
      const kept = sql.exec<{ name: string }>("SELECT name FROM object_name").toArray();
      expect(kept).toEqual([{ name: "apac" }]);
    });
  });
});
