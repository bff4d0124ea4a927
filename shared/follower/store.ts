/**
 * Where the certified follower keeps what it must not lose: its head, the batches buffered ahead of
 * it, the certificates and results it serves, and the certified state's own stores. Two
 * implementations run one acceptance suite (test/support/follower-acceptance.ts): the memory one
 * here beside it (plain Node, the simulator) and the SQLite one of a replica
 * (durable-objects/storage/sql-follower-store.ts). Every method is synchronous: the core runs inside
 * its host's transaction.
 */
import type { CertifiedStores } from "../certified/state-machine.js";
import type { ResultProof } from "../certified/results.js";
import type { Certificate, Digest, OpResult } from "../certified/types.js";
import type { Head } from "./types.js";

/** A batch kept ahead of the next seq: its ops' digest and its wire text. */
export interface BufferedBatch {
  digest: Digest;
  text: string;
}

/** A certified op's result with its proof against its batch's resultsRoot. */
export interface StoredResult {
  seq: number;
  result: OpResult;
  proof: ResultProof;
}

export interface FollowerStore {
  /**
   * Run `body` atomically: all of its writes are kept, or, if it throws, none. Nestable: a throw
   * inside an inner call that the outer body catches undoes only the inner call's writes.
   */
  transaction<T>(body: () => T): T;
  /** The certified state's stores, opened afresh (nothing cached in them outlives a rollback). */
  openState(): CertifiedStores;
  /** Delete the whole certified state (a transfer that replaces it); then `openState` again. */
  wipeState(): void;

  /** The head as last written (undefined: never written, the genesis). */
  head(): Head | undefined;
  putHead(h: Head): void;

  putCertificate(certificate: Certificate): void;
  certificate(seq: number): Certificate | undefined;
  /** The certificate of the highest seq kept (undefined: none). */
  latestCertificate(): Certificate | undefined;
  /** Delete certificates of seqs ≤ `seq` that no kept result needs. */
  dropCertificatesThrough(seq: number): void;

  /**
   * The results of one certified batch `seq` (each op's result and its proof), and `seq`'s
   * certificate time (results are kept by it): one call per batch, so a store writes them together.
   */
  putResults(seq: number, time: number, results: readonly Omit<StoredResult, "seq">[]): void;
  result(opId: string): StoredResult | undefined;
  /** The highest seq holding results whose certificate's time is before `time` (null: none). */
  resultSeqBefore(time: number): number | null;
  /** Delete the results of seqs ≤ `seq`. */
  dropResultsThrough(seq: number): void;

  bufferHas(seq: number, digest: Digest): boolean;
  /** Distinct batches held for `seq`. */
  bufferCount(seq: number): number;
  bufferPut(seq: number, batch: BufferedBatch): void;
  /** The batches held for `seq`, by digest. */
  bufferAt(seq: number): BufferedBatch[];
  /** Delete the batches of seqs ≤ `seq`. */
  bufferDropThrough(seq: number): void;
  bufferDropSeq(seq: number): void;
  bufferClear(): void;
  /** Batches held in all. */
  bufferSize(): number;
}
