/**
 * Where the sparse Merkle tree keeps its nodes. Nodes are immutable once added: an update adds the
 * new nodes of a path and removes the old ones, so a store only ever inserts and deletes rows.
 * That maps directly onto a SQLite table in a Durable Object (`INSERT … RETURNING id`, `DELETE`),
 * whose `ctx.storage.sql` is synchronous — hence the synchronous interface. Wrap one `AuthMap`
 * update (or one batch) in `transactionSync` there so a crash never leaves half a path.
 *
 * A node does not know its depth or position: a leaf that loses its sibling simply moves up by
 * being referenced from a higher parent, without being rewritten.
 */

/** A node's handle in its store. 0 is the empty subtree, never stored. */
export type NodeId = number;
export const EMPTY_NODE: NodeId = 0;

export interface InnerNode {
  readonly kind: "inner";
  readonly left: NodeId;
  readonly right: NodeId;
  /** innerHash(hash(left), hash(right)) */
  readonly hash: Uint8Array;
}

export interface LeafNode {
  readonly kind: "leaf";
  readonly keyHash: Uint8Array;
  readonly valueHash: Uint8Array;
  /** leafHash(keyHash, valueHash) */
  readonly hash: Uint8Array;
}

export type MerkleNode = InnerNode | LeafNode;

export interface NodeStore {
  /**
   * The node with this id; undefined only if the store is corrupt (callers treat it as a bug).
   * The returned node's byte arrays may alias the store's memory: they stay valid until that node
   * is removed. Copy them to keep them longer.
   */
  get(id: NodeId): MerkleNode | undefined;
  /** Store a new node (its bytes are copied or kept unchanged) and return its id (never 0). */
  add(node: MerkleNode): NodeId;
  /** Forget a node that is no longer referenced. */
  remove(id: NodeId): void;
  /**
   * A node that is not part of the state from `version` on, but may still be part of an older
   * state someone retained (a stable checkpoint that peers fetch chunks of): it stays readable
   * until `collect` passes `version`. Versions are batch seqs and never decrease.
   */
  retire(id: NodeId, version: number): void;
  /** Remove every node retired at a version ≤ `through`; returns how many were removed. */
  collect(through: number): number;
  /** Nodes retired and not collected yet. */
  readonly retiredCount: number;
  /** The root's id (0: the empty tree). Persisted with the nodes. */
  getRoot(): NodeId;
  setRoot(id: NodeId): void;
  /** Number of stored nodes. */
  readonly size: number;
  /**
   * Optional: copy node `id`'s hash (32 zero bytes for the empty subtree) into `out` at `offset`,
   * without building the node (the tree's hot path: two per inner hash).
   */
  copyHash?(id: NodeId, out: Uint8Array, offset: number): void;
  /**
   * Optional, for a store that buffers writes (SqlNodeStore): write what is buffered. `AuthMap`
   * calls it at the end of every update, so a store written through a map is always flushed; what
   * is buffered is readable (`get`, `copyHash`, `getRoot`) before.
   */
  flush?(): void;
  /** Optional, with `flush`: drop what is buffered (an update threw half-way). */
  discard?(): void;
}

const FREE = 0;
const INNER = 1;
const LEAF = 2;

/**
 * An in-memory store packed into typed arrays: ~41 bytes per inner node and ~105 per leaf, and a
 * handful of objects for the garbage collector instead of millions. (Millions of small objects and
 * Uint8Arrays cost over 1 GB and multi-second GC pauses at 10^6 keys.) Ids are slots, reused
 * through a free list.
 */
/** A node with arrays of its own. */
export const copyNode = (n: MerkleNode): MerkleNode =>
  n.kind === "inner"
    ? { kind: "inner", left: n.left, right: n.right, hash: n.hash.slice() }
    : { kind: "leaf", keyHash: n.keyHash.slice(), valueHash: n.valueHash.slice(), hash: n.hash.slice() };

export class MemoryNodeStore implements NodeStore {
  private kinds = new Uint8Array(1024);
  /** inner: left child; leaf: slot in `leafBytes`. */
  private a = new Int32Array(1024);
  /** inner: right child. */
  private b = new Int32Array(1024);
  private hashes = new Uint8Array(1024 * 32);
  private next: NodeId = 1; // slot 0 is the empty subtree
  private free: NodeId[] = [];
  private leafBytes = new Uint8Array(1024 * 64); // keyHash ‖ valueHash per leaf slot
  private leafNext = 0;
  private leafFree: number[] = [];
  private root: NodeId = EMPTY_NODE;
  private count = 0;
  /** Retired node ids and their versions, in retirement order (versions never decrease). */
  private retiredIds: number[] = [];
  private retiredAt: number[] = [];
  private retiredHead = 0;

  get(id: NodeId): MerkleNode | undefined {
    if (id <= 0 || id >= this.next) return undefined;
    const kind = this.kinds[id];
    const hash = this.hashes.subarray(id * 32, id * 32 + 32);
    if (kind === INNER) return { kind: "inner", left: this.a[id]!, right: this.b[id]!, hash };
    if (kind !== LEAF) return undefined;
    const at = this.a[id]! * 64;
    return {
      kind: "leaf",
      keyHash: this.leafBytes.subarray(at, at + 32),
      valueHash: this.leafBytes.subarray(at + 32, at + 64),
      hash,
    };
  }

  add(node: MerkleNode): NodeId {
    let id = this.free.pop();
    if (id === undefined) {
      if (this.next === this.kinds.length) this.growNodes();
      id = this.next++;
    }
    this.hashes.set(node.hash, id * 32);
    if (node.kind === "inner") {
      this.kinds[id] = INNER;
      this.a[id] = node.left;
      this.b[id] = node.right;
    } else {
      let slot = this.leafFree.pop();
      if (slot === undefined) {
        if ((this.leafNext + 1) * 64 > this.leafBytes.length) this.leafBytes = grow(this.leafBytes);
        slot = this.leafNext++;
      }
      this.leafBytes.set(node.keyHash, slot * 64);
      this.leafBytes.set(node.valueHash, slot * 64 + 32);
      this.kinds[id] = LEAF;
      this.a[id] = slot;
    }
    this.count++;
    return id;
  }

  remove(id: NodeId): void {
    const kind = id > 0 && id < this.next ? this.kinds[id] : FREE;
    if (kind === FREE) throw new Error(`merkle store: remove of absent node ${id}`);
    if (kind === LEAF) this.leafFree.push(this.a[id]!);
    this.kinds[id] = FREE;
    this.free.push(id);
    this.count--;
  }

  retire(id: NodeId, version: number): void {
    if (id <= 0 || id >= this.next || this.kinds[id] === FREE)
      throw new Error(`merkle store: retire of absent node ${id}`);
    const n = this.retiredAt.length;
    if (n > this.retiredHead && this.retiredAt[n - 1]! > version)
      throw new Error("merkle store: retire at a version older than the last one");
    this.retiredIds.push(id);
    this.retiredAt.push(version);
  }

  collect(through: number): number {
    let removed = 0;
    while (this.retiredHead < this.retiredAt.length && this.retiredAt[this.retiredHead]! <= through) {
      this.remove(this.retiredIds[this.retiredHead]!);
      this.retiredHead++;
      removed++;
    }
    if (this.retiredHead > 1024 && this.retiredHead * 2 > this.retiredAt.length) {
      this.retiredIds = this.retiredIds.slice(this.retiredHead);
      this.retiredAt = this.retiredAt.slice(this.retiredHead);
      this.retiredHead = 0;
    }
    return removed;
  }

  get retiredCount(): number {
    return this.retiredAt.length - this.retiredHead;
  }

  /** An independent copy (the simulator's "disk" at a durable point). */
  clone(): MemoryNodeStore {
    const c = new MemoryNodeStore();
    c.kinds = this.kinds.slice();
    c.a = this.a.slice();
    c.b = this.b.slice();
    c.hashes = this.hashes.slice();
    c.next = this.next;
    c.free = this.free.slice();
    c.leafBytes = this.leafBytes.slice();
    c.leafNext = this.leafNext;
    c.leafFree = this.leafFree.slice();
    c.root = this.root;
    c.count = this.count;
    c.retiredIds = this.retiredIds.slice(this.retiredHead);
    c.retiredAt = this.retiredAt.slice(this.retiredHead);
    return c;
  }

  copyHash(id: NodeId, out: Uint8Array, offset: number): void {
    if (id === EMPTY_NODE) {
      out.fill(0, offset, offset + 32);
      return;
    }
    if (id < 0 || id >= this.next || this.kinds[id] === FREE)
      throw new Error(`merkle store: missing node ${id} (corrupt store)`);
    const h = this.hashes;
    const at = id * 32;
    for (let i = 0; i < 32; i++) out[offset + i] = h[at + i]!;
  }

  getRoot(): NodeId {
    return this.root;
  }

  setRoot(id: NodeId): void {
    this.root = id;
  }

  get size(): number {
    return this.count;
  }

  private growNodes(): void {
    this.kinds = grow(this.kinds);
    this.a = grow(this.a);
    this.b = grow(this.b);
    this.hashes = grow(this.hashes);
  }
}

function grow<T extends Uint8Array | Int32Array>(arr: T): T {
  const next = new (arr.constructor as new (n: number) => T)(arr.length * 2);
  next.set(arr);
  return next;
}
