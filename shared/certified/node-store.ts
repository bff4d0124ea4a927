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
  /** The node with this id; undefined only if the store is corrupt (callers treat it as a bug). */
  get(id: NodeId): MerkleNode | undefined;
  /** Store a new node and return its id (never 0). */
  add(node: MerkleNode): NodeId;
  /** Forget a node that is no longer referenced. */
  remove(id: NodeId): void;
  /** The root's id (0: the empty tree). Persisted with the nodes. */
  getRoot(): NodeId;
  setRoot(id: NodeId): void;
  /** Number of stored nodes. */
  readonly size: number;
}

/** A store in a JS array, with a free list so ids stay dense under churn. */
export class MemoryNodeStore implements NodeStore {
  // Slot 0 is the empty subtree and stays unused.
  private readonly nodes: (MerkleNode | undefined)[] = [undefined];
  private readonly free: NodeId[] = [];
  private root: NodeId = EMPTY_NODE;
  private count = 0;

  get(id: NodeId): MerkleNode | undefined {
    return this.nodes[id];
  }

  add(node: MerkleNode): NodeId {
    this.count++;
    const id = this.free.pop();
    if (id !== undefined) {
      this.nodes[id] = node;
      return id;
    }
    this.nodes.push(node);
    return this.nodes.length - 1;
  }

  remove(id: NodeId): void {
    if (id === EMPTY_NODE || this.nodes[id] === undefined)
      throw new Error(`merkle store: remove of absent node ${id}`);
    this.nodes[id] = undefined;
    this.free.push(id);
    this.count--;
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
}
