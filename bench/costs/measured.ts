/** What `ops-cost.measure.ts` prints on its `COSTS_RESULT` line and `run.ts` prices. */
export interface ObjectCost {
  label: string;
  /** Billed requests: RPC method calls and alarm runs. */
  requests: number;
  calls: Record<string, number>;
  /** Wall time with at least one call or alarm running in the object. */
  activeMs: number;
  rowsWritten: number;
  setAlarms: number;
  /** SQLite `databaseSize` at the end. */
  bytes: number;
  /** Rows written by statement (its first words), most first. */
  rowsBy: Record<string, number>;
}

export interface Measured {
  ops: number;
  keys: number;
  accepted: number;
  refused: number;
  acceptedMs: number;
  certifiedMs: number;
  /** Per queue: messages delivered to the consumer (each written, read and deleted: 3 operations). */
  queueMessages: Record<string, number>;
  /** Per queue: consumer invocations (each a Worker invocation). */
  queueBatches: Record<string, number>;
  objects: ObjectCost[];
}
