/**
 * A Durable Object that is one named thing (a replica `weur`, a node `pbft-0`): its name is bound by
 * its first call and kept in its own SQLite (`object_name`), and a later call naming another is
 * refused, so a call routed to the wrong object is never served from another's state. Read once per
 * instance; an object of an earlier version finds its name where that version kept it (`legacyName`).
 */
import { DurableObject } from "cloudflare:workers";

export abstract class NamedObject<E = unknown> extends DurableObject<E> {
  /** undefined: not read yet; null: never bound. */
  private bound: string | null | undefined;

  /** What the object is, for the refusal's message (`replica`, `pbft node`). */
  protected abstract readonly kind: string;

  /** Where an earlier version kept the name, if anywhere (read once, then kept in `object_name`). */
  protected legacyName(): string | undefined {
    return undefined;
  }

  /** This object's name, null while no call has bound it (e.g. an alarm of an object never called). */
  protected get boundName(): string | null {
    if (this.bound === undefined) {
      const sql = this.ctx.storage.sql;
      sql.exec(
        "CREATE TABLE IF NOT EXISTS object_name (one INTEGER PRIMARY KEY CHECK (one = 1), name TEXT NOT NULL)",
      );
      const row = sql.exec<{ name: string }>("SELECT name FROM object_name WHERE one = 1").toArray()[0];
      this.bound = row?.name ?? this.legacyName() ?? null;
      if (row === undefined && this.bound !== null) this.keep(this.bound);
    }
    return this.bound;
  }

  /** Bind this object to `name` on its first call; throws if it is another's. */
  protected bindName(name: string): void {
    const known = this.boundName;
    if (known === name) return;
    if (known !== null) throw new Error(`${this.kind} '${known}' addressed as '${name}'`);
    this.keep(name);
    this.bound = name;
  }

  private keep(name: string): void {
    this.ctx.storage.sql.exec("INSERT OR REPLACE INTO object_name (one, name) VALUES (1, ?)", name);
  }
}
