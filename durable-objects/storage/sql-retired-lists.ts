/**
 * The node ids a Merkle node store retired, per version (`<name>_retired_at (at, first, ids)`: per
 * update, the JSON list of the ids it retired at version `at`; `first`, the list's first id, keeps
 * rows unique). Retiring costs one row per update whatever the count. The one-row-per-node
 * `<name>_retired (at, id)` of earlier versions is folded into it at open.
 */
import type { NodeId } from "../../shared/certified/node-store.js";

export class SqlRetiredLists {
  private readonly table: string;

  constructor(
    private readonly sql: SqlStorage,
    name: string,
  ) {
    this.table = `${name}_retired_at`;
    sql.exec(
      `CREATE TABLE IF NOT EXISTS ${this.table} (at INTEGER NOT NULL, first INTEGER NOT NULL,` +
        ` ids TEXT NOT NULL, PRIMARY KEY (at, first)) WITHOUT ROWID;`,
    );
    this.foldLegacy(`${name}_retired`);
  }

  /** The newest version a list is kept for, null if none. */
  newest(): number | null {
    return this.sql.exec<{ m: number | null }>(`SELECT max(at) AS m FROM ${this.table}`).one().m;
  }

  write(at: number, ids: readonly NodeId[]): void {
    this.sql.exec(
      `INSERT INTO ${this.table} (at, first, ids) VALUES (?, ?, ?)`,
      at,
      ids[0]!,
      JSON.stringify(ids),
    );
  }

  /** Every id retired at a version ≤ `through` (the lists stay until `drop`). */
  idsThrough(through: number): NodeId[] {
    const ids: NodeId[] = [];
    for (const l of this.sql.exec<{ ids: string }>(`SELECT ids FROM ${this.table} WHERE at <= ?`, through))
      for (const id of JSON.parse(l.ids) as NodeId[]) ids.push(id);
    return ids;
  }

  drop(through: number): void {
    this.sql.exec(`DELETE FROM ${this.table} WHERE at <= ?`, through);
  }

  count(): number {
    return (
      this.sql.exec<{ n: number | null }>(`SELECT sum(json_array_length(ids)) AS n FROM ${this.table}`).one()
        .n ?? 0
    );
  }

  /** Rows of the one-row-per-node retired table of earlier versions, as lists; then drop it. */
  private foldLegacy(legacy: string): void {
    const has = this.sql
      .exec(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?`, legacy)
      .toArray();
    if (has.length === 0) return;
    const byAt = new Map<number, NodeId[]>();
    for (const r of this.sql.exec<{ at: number; id: number }>(
      `SELECT at, id FROM ${legacy} ORDER BY at, id`,
    )) {
      let l = byAt.get(r.at);
      if (!l) byAt.set(r.at, (l = []));
      l.push(r.id);
    }
    for (const [at, ids] of byAt)
      this.sql.exec(
        `INSERT OR IGNORE INTO ${this.table} (at, first, ids) VALUES (?, ?, ?)`,
        at,
        ids[0]!,
        JSON.stringify(ids),
      );
    this.sql.exec(`DROP TABLE ${legacy}`);
  }
}
