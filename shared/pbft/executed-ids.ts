/**
 * The set of op ids already executed, deduplicating ops across batches, views and restarts.
 * Per client: every seq ≤ `floor` is executed, plus a set of seqs above it (gaps a client left).
 * Its size grows with clients and gaps, not with ops. Part of the checkpointed state.
 */
import type { SignedOp } from "../ops.js";

/** JSON form: `[client, floor, seqsAboveFloor (ascending)]`, sorted by client. */
export type ExecutedIdsJson = [string, number, number[]][];

interface PerClient {
  floor: number;
  above: Set<number>;
}

export class ExecutedIds {
  private readonly byClient = new Map<string, PerClient>();

  static fromJson(json: ExecutedIdsJson): ExecutedIds {
    const ids = new ExecutedIds();
    for (const [client, floor, above] of json) ids.byClient.set(client, { floor, above: new Set(above) });
    return ids;
  }

  has(op: Pick<SignedOp, "client" | "seq">): boolean {
    const c = this.byClient.get(op.client);
    return c !== undefined && (op.seq <= c.floor || c.above.has(op.seq));
  }

  add(op: Pick<SignedOp, "client" | "seq">): void {
    let c = this.byClient.get(op.client);
    if (!c) {
      c = { floor: 0, above: new Set() };
      this.byClient.set(op.client, c);
    }
    if (op.seq <= c.floor) return;
    c.above.add(op.seq);
    while (c.above.delete(c.floor + 1)) c.floor++;
  }

  toJson(): ExecutedIdsJson {
    const out: ExecutedIdsJson = [];
    for (const client of [...this.byClient.keys()].sort()) {
      const c = this.byClient.get(client)!;
      out.push([client, c.floor, [...c.above].sort((a, b) => a - b)]);
    }
    return out;
  }
}
