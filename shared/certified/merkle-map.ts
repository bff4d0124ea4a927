/**
 * An authenticated key → value map: a sparse Merkle tree over SHA-256(key), with every subtree
 * that holds one key collapsed into that key's leaf (as in Diem's Jellyfish Merkle tree, binary).
 *
 * The tree is canonical — its shape depends only on the set of key hashes — so the root is the
 * same whatever the order of insertions and deletions, and equals a from-scratch build. A key sits
 * at the shallowest depth where its hash prefix is unique, about log2(n) for n keys, so an update
 * costs ~log2(n) + 1 hashes and a proof carries ~log2(n) sibling hashes.
 *
 * The map commits to values but does not keep them (the certified state machine holds the
 * records): it stores only each key's hash and value hash.
 */
import { bytesEqual, toHex } from "../bytes.js";
import { sha256 } from "../hash.js";
import { EMPTY_HASH, TREE_DEPTH, bitAt, innerHash, keyHashOf, leafHash } from "./hashing.js";
import { EMPTY_NODE, MemoryNodeStore, type MerkleNode, type NodeId, type NodeStore } from "./node-store.js";
import type { StateProof } from "./proofs.js";
import type { Digest } from "./types.js";

/** One entry for a bulk build: the key's hash and its value's hash. */
export interface HashedEntry {
  keyHash: Uint8Array;
  valueHash: Uint8Array;
}

export class AuthMap {
  /** Tree hashes (leaf + inner) computed so far: instrumentation for benchmarks and tests. */
  hashCount = 0;
  /**
   * Null (the default): a replaced node is removed from the store at once. A version (batch seq):
   * replaced nodes are retired at it instead (`NodeStore.retire`), so the trees of older versions
   * stay readable until the store collects them. Set it before each batch.
   */
  retireAt: number | null = null;
  /**
   * Nodes added by the update under way. One replaced before the update ends was never part of
   * any version (a version is the tree between updates), so it is removed, not retired: a store
   * that buffers an update's writes (SqlNodeStore) then never writes it at all.
   */
  private readonly fresh = new Set<NodeId>();

  constructor(readonly store: NodeStore = new MemoryNodeStore()) {}

  /**
   * Build a map from scratch in O(n log n) bit tests and 2n−1 tree hashes, without sorting: each
   * level partitions its range by the next key-hash bit. Keys must be distinct.
   */
  static build(entries: readonly HashedEntry[], store?: NodeStore): AuthMap {
    const keyHashes = new Uint8Array(entries.length * 32);
    const valueHashes = new Uint8Array(entries.length * 32);
    entries.forEach((e, i) => {
      keyHashes.set(e.keyHash, i * 32);
      valueHashes.set(e.valueHash, i * 32);
    });
    return AuthMap.buildPacked(keyHashes, valueHashes, store);
  }

  /**
   * `build` over packed hashes — entry i is bytes [32i, 32i+32) of each array — so that a million
   * entries cost two buffers rather than two million small objects.
   */
  static buildPacked(
    keyHashes: Uint8Array,
    valueHashes: Uint8Array,
    store: NodeStore = new MemoryNodeStore(),
  ): AuthMap {
    if (keyHashes.length !== valueHashes.length || keyHashes.length % 32 !== 0)
      throw new Error("AuthMap.build: packed hashes of unequal or partial length");
    if (store.getRoot() !== EMPTY_NODE) throw new Error("AuthMap.build: store is not empty");
    const map = new AuthMap(store);
    const order = new Int32Array(keyHashes.length / 32);
    for (let i = 0; i < order.length; i++) order[i] = i;
    map.update(() => store.setRoot(map.buildRange({ keyHashes, valueHashes, order }, 0, order.length, 0)));
    return map;
  }

  /** Build from keys and canonical value bytes. */
  static fromEntries(entries: Iterable<readonly [string, Uint8Array]>, store?: NodeStore): AuthMap {
    let keyHashes: Uint8Array = new Uint8Array(32 * 1024);
    let valueHashes: Uint8Array = new Uint8Array(32 * 1024);
    let n = 0;
    for (const [k, v] of entries) {
      if ((n + 1) * 32 > keyHashes.length) {
        keyHashes = growBytes(keyHashes);
        valueHashes = growBytes(valueHashes);
      }
      keyHashes.set(keyHashOf(k), n * 32);
      valueHashes.set(sha256(v), n * 32);
      n++;
    }
    return AuthMap.buildPacked(keyHashes.subarray(0, n * 32), valueHashes.subarray(0, n * 32), store);
  }

  /** The root hash (32 zero bytes for the empty map). */
  rootHash(): Uint8Array {
    return this.hashOf(this.store.getRoot());
  }

  /** The root as lowercase hex. */
  root(): Digest {
    return toHex(this.rootHash());
  }

  /** Set `key` to the value whose canonical bytes are `value`. */
  set(key: string, value: Uint8Array): void {
    this.setHashed(keyHashOf(key), sha256(value));
  }

  /**
   * Set many keys at once: the same tree as setting them one by one, but each node on the paths
   * is rehashed once for the whole batch rather than once per key below it (a batch of k keys
   * shares the top ~log2(k) levels). Keys must be distinct.
   */
  setMany(entries: Iterable<readonly [string, Uint8Array]>): void {
    const hashed: HashedEntry[] = [];
    for (const [k, v] of entries) hashed.push({ keyHash: keyHashOf(k), valueHash: sha256(v) });
    this.setManyHashed(hashed);
  }

  /** `setMany` over key and value hashes (reorders `entries`). */
  setManyHashed(entries: HashedEntry[]): void {
    if (entries.length === 0) return;
    entries.sort((a, b) => compareBytes(a.keyHash, b.keyHash));
    for (let i = 1; i < entries.length; i++)
      if (bytesEqual(entries[i - 1]!.keyHash, entries[i]!.keyHash))
        throw new Error("AuthMap.setMany: duplicate key");
    this.update(() => {
      const next = this.upsertMany(this.store.getRoot(), 0, entries, 0, entries.length);
      if (next !== null) this.store.setRoot(next);
    });
  }

  /** Remove `key` (no-op if absent). */
  delete(key: string): void {
    this.deleteHashed(keyHashOf(key));
  }

  setHashed(keyHash: Uint8Array, valueHash: Uint8Array): void {
    this.update(() => {
      const root = this.store.getRoot();
      const next = this.upsert(root, 0, keyHash, valueHash);
      if (next !== root) this.store.setRoot(next);
    });
  }

  deleteHashed(keyHash: Uint8Array): void {
    this.update(() => {
      const root = this.store.getRoot();
      const next = this.remove(root, 0, keyHash);
      if (next !== root) this.store.setRoot(next);
    });
  }

  /**
   * One update of the tree: the store's buffered writes flushed at its end (one write per node that
   * outlives the update), or dropped if it throws (the root stays the previous one).
   */
  private update(fn: () => void): void {
    try {
      fn();
      this.store.flush?.();
    } catch (e) {
      this.store.discard?.();
      throw e;
    } finally {
      this.fresh.clear();
    }
  }

  /** The value hash stored for a key, or undefined if absent. */
  valueHashOf(key: string): Uint8Array | undefined {
    const kh = keyHashOf(key);
    let id = this.store.getRoot();
    for (let depth = 0; id !== EMPTY_NODE; depth++) {
      const n = this.node(id);
      if (n.kind === "leaf") return bytesEqual(n.keyHash, kh) ? n.valueHash.slice() : undefined;
      id = bitAt(kh, depth) === 0 ? n.left : n.right;
    }
    return undefined;
  }

  /** An inclusion proof if `key` is present, a non-inclusion proof otherwise (see `StateProof`). */
  prove(key: string): StateProof {
    const kh = keyHashOf(key);
    const siblings: (Digest | null)[] = [];
    let id = this.store.getRoot();
    for (let depth = 0; id !== EMPTY_NODE; depth++) {
      const n = this.node(id);
      if (n.kind === "leaf") {
        if (bytesEqual(n.keyHash, kh)) return { siblings };
        return { siblings, leaf: { keyHash: toHex(n.keyHash), valueHash: toHex(n.valueHash) } };
      }
      const [next, sib] = bitAt(kh, depth) === 0 ? [n.left, n.right] : [n.right, n.left];
      siblings.push(sib === EMPTY_NODE ? null : toHex(this.hashOf(sib)));
      id = next;
    }
    return { siblings };
  }

  private node(id: NodeId): MerkleNode {
    const n = this.store.get(id);
    if (!n) throw new Error(`merkle map: missing node ${id} (corrupt store)`);
    return n;
  }

  private hashOf(id: NodeId): Uint8Array {
    return id === EMPTY_NODE ? EMPTY_HASH : this.node(id).hash;
  }

  private addLeaf(keyHash: Uint8Array, valueHash: Uint8Array): NodeId {
    this.hashCount++;
    const id = this.store.add({ kind: "leaf", keyHash, valueHash, hash: leafHash(keyHash, valueHash) });
    this.fresh.add(id);
    return id;
  }

  private addInner(left: NodeId, right: NodeId): NodeId {
    this.hashCount++;
    const id = this.store.add({ kind: "inner", left, right, hash: this.innerHashOf(left, right) });
    this.fresh.add(id);
    return id;
  }

  /** innerHash of two subtrees, their hashes copied straight from the store when it can. */
  private innerHashOf(left: NodeId, right: NodeId): Uint8Array {
    const store = this.store;
    if (!store.copyHash) return innerHash(this.hashOf(left), this.hashOf(right));
    innerInput[0] = INNER_PREFIX;
    store.copyHash(left, innerInput, 1);
    store.copyHash(right, innerInput, 33);
    return sha256(innerInput);
  }

  /** Insert or replace under subtree `id` at `depth`; returns the subtree's new id (same id: unchanged). */
  private upsert(id: NodeId, depth: number, kh: Uint8Array, vh: Uint8Array): NodeId {
    if (id === EMPTY_NODE) return this.addLeaf(kh, vh);
    const n = this.node(id);
    if (n.kind === "leaf") {
      if (bytesEqual(n.keyHash, kh)) {
        if (bytesEqual(n.valueHash, vh)) return id;
        return this.replace(id, this.addLeaf(kh, vh));
      }
      // Two keys now share this position: push both down until their bits differ.
      return this.split(depth, id, n.keyHash, this.addLeaf(kh, vh), kh);
    }
    const goRight = bitAt(kh, depth) === 1;
    const child = goRight ? n.right : n.left;
    const next = this.upsert(child, depth + 1, kh, vh);
    if (next === child) return id;
    return this.replace(id, goRight ? this.addInner(n.left, next) : this.addInner(next, n.right));
  }

  /**
   * `upsert` of entries [lo, hi) (sorted by key hash, all sharing the subtree's `depth`-bit prefix)
   * under subtree `id`: the subtree's new id, or null if unchanged. (Not "the same id": over several
   * updates a freed id can be reused, so the new subtree may get the old one's id.) An inner node
   * splits the range at the next bit and is rehashed once; a leaf or an empty subtree takes the
   * entries one by one (new keys only: rare once the tree is built).
   */
  private upsertMany(
    id: NodeId,
    depth: number,
    es: readonly HashedEntry[],
    lo: number,
    hi: number,
  ): NodeId | null {
    const n = id === EMPTY_NODE ? undefined : this.node(id);
    if (n === undefined || n.kind === "leaf" || hi - lo === 1) {
      let cur = id;
      let changed = false;
      for (let i = lo; i < hi; i++) {
        const next = this.upsert(cur, depth, es[i]!.keyHash, es[i]!.valueHash);
        if (next !== cur) changed = true; // one upsert adds before it removes: "same id" holds here
        cur = next;
      }
      return changed ? cur : null;
    }
    let mid = lo;
    while (mid < hi && bitAt(es[mid]!.keyHash, depth) === 0) mid++;
    const { left, right } = n;
    const nextLeft = mid > lo ? this.upsertMany(left, depth + 1, es, lo, mid) : null;
    const nextRight = hi > mid ? this.upsertMany(right, depth + 1, es, mid, hi) : null;
    if (nextLeft === null && nextRight === null) return null;
    return this.replace(id, this.addInner(nextLeft ?? left, nextRight ?? right));
  }

  private split(depth: number, a: NodeId, akh: Uint8Array, b: NodeId, bkh: Uint8Array): NodeId {
    if (depth >= TREE_DEPTH) throw new Error("merkle map: two keys with one SHA-256 (impossible)");
    const abit = bitAt(akh, depth);
    if (abit !== bitAt(bkh, depth)) return abit === 0 ? this.addInner(a, b) : this.addInner(b, a);
    const below = this.split(depth + 1, a, akh, b, bkh);
    return abit === 0 ? this.addInner(below, EMPTY_NODE) : this.addInner(EMPTY_NODE, below);
  }

  /** Remove under subtree `id`; keeps the tree canonical by lifting a lone leaf into its parent's place. */
  private remove(id: NodeId, depth: number, kh: Uint8Array): NodeId {
    if (id === EMPTY_NODE) return id;
    const n = this.node(id);
    if (n.kind === "leaf") {
      if (!bytesEqual(n.keyHash, kh)) return id;
      return this.replace(id, EMPTY_NODE);
    }
    const goRight = bitAt(kh, depth) === 1;
    const child = goRight ? n.right : n.left;
    const sibling = goRight ? n.left : n.right;
    const next = this.remove(child, depth + 1, kh);
    if (next === child) return id;
    // A subtree holding a single leaf is that leaf: lift it (an inner node always holds ≥ 2 keys).
    if (next === EMPTY_NODE && this.isLeaf(sibling)) return this.replace(id, sibling);
    if (sibling === EMPTY_NODE && this.isLeaf(next)) return this.replace(id, next);
    return this.replace(id, goRight ? this.addInner(sibling, next) : this.addInner(next, sibling));
  }

  /**
   * Drop (or retire, see `retireAt`; a node of this update is always dropped) `old` now that
   * `next` stands in its place. Callers add `next`
   * first: a store may reuse a freed id, and "same id" is how a parent learns its child did not
   * change.
   */
  private replace(old: NodeId, next: NodeId): NodeId {
    if (this.fresh.delete(old) || this.retireAt === null) this.store.remove(old);
    else this.store.retire(old, this.retireAt);
    return next;
  }

  // --- subtrees by path, for chunked state transfer ------------------------------------------
  // A path is a string of "0"/"1": the first bits of the key hashes below it. The tree is
  // canonical, so a path names the same subtree (the same hash) in every tree with the same keys
  // below it, whatever else differs.

  /** The subtree at `path` under the tree rooted at `root` (default: the current root). */
  subtreeAt(path: string, root: NodeId = this.store.getRoot()): NodeId {
    let id = root;
    for (let depth = 0; depth < path.length; depth++) {
      if (id === EMPTY_NODE) return EMPTY_NODE;
      const n = this.node(id);
      // A leaf higher up is the whole subtree of every path below it that its key hash follows.
      if (n.kind === "leaf") return hasPrefix(n.keyHash, path) ? id : EMPTY_NODE;
      id = path.charCodeAt(depth) === 48 ? n.left : n.right;
    }
    return id;
  }

  /** The hash of the subtree at `path` (the empty hash where there is none). */
  hashAt(path: string, root?: NodeId): Uint8Array {
    return this.hashOf(this.subtreeAt(path, root));
  }

  /** A subtree's two child hashes, or null for a leaf or the empty subtree. */
  childHashes(id: NodeId): [Uint8Array, Uint8Array] | null {
    if (id === EMPTY_NODE) return null;
    const n = this.node(id);
    return n.kind === "leaf" ? null : [this.hashOf(n.left), this.hashOf(n.right)];
  }

  /** The leaves under a subtree (key and value hashes, copied), or null if there are more than `max`. */
  leavesUnder(id: NodeId, max: number): HashedEntry[] | null {
    const out: HashedEntry[] = [];
    const stack: NodeId[] = [id];
    while (stack.length > 0) {
      const cur = stack.pop()!;
      if (cur === EMPTY_NODE) continue;
      const n = this.node(cur);
      if (n.kind === "leaf") {
        if (out.length === max) return null;
        out.push({ keyHash: n.keyHash.slice(), valueHash: n.valueHash.slice() });
      } else stack.push(n.right, n.left);
    }
    return out;
  }

  private isLeaf(id: NodeId): boolean {
    return id !== EMPTY_NODE && this.node(id).kind === "leaf";
  }

  private buildRange(p: Packed, lo: number, hi: number, depth: number): NodeId {
    if (hi === lo) return EMPTY_NODE;
    const { keyHashes, valueHashes, order } = p;
    if (hi - lo === 1) {
      const at = order[lo]! * 32;
      return this.addLeaf(keyHashes.subarray(at, at + 32), valueHashes.subarray(at, at + 32));
    }
    if (depth >= TREE_DEPTH) throw new Error("AuthMap.build: duplicate key");
    // In-place partition of the index range: entries whose bit is 0 first.
    const byte = depth >> 3;
    const shift = 7 - (depth & 7);
    let i = lo;
    let j = hi - 1;
    while (i <= j) {
      if (((keyHashes[order[i]! * 32 + byte]! >> shift) & 1) === 0) i++;
      else {
        const t = order[i]!;
        order[i] = order[j]!;
        order[j] = t;
        j--;
      }
    }
    const left = this.buildRange(p, lo, i, depth + 1);
    const right = this.buildRange(p, i, hi, depth + 1);
    return this.addInner(left, right);
  }
}

/** Does `keyHash` start with the bits of `path`? */
export function hasPrefix(keyHash: Uint8Array, path: string): boolean {
  for (let i = 0; i < path.length; i++)
    if (bitAt(keyHash, i) !== (path.charCodeAt(i) === 49 ? 1 : 0)) return false;
  return true;
}

/**
 * The hash of the canonical subtree at `depth` holding exactly `entries` (distinct keys that share
 * their first `depth` bits): what a tree with those keys below that position has there. Pure;
 * reorders `entries`. Throws on duplicate keys.
 */
export function subtreeHashOf(entries: HashedEntry[], depth: number): Uint8Array {
  if (entries.length === 0) return EMPTY_HASH;
  if (entries.length === 1) return leafHash(entries[0]!.keyHash, entries[0]!.valueHash);
  if (depth >= TREE_DEPTH) throw new Error("subtreeHashOf: duplicate key");
  const left: HashedEntry[] = [];
  const right: HashedEntry[] = [];
  for (const e of entries) (bitAt(e.keyHash, depth) === 0 ? left : right).push(e);
  return innerHash(subtreeHashOf(left, depth + 1), subtreeHashOf(right, depth + 1));
}

// The 0x01 ‖ left ‖ right input of an inner hash (hashing.ts), filled in place. Safe to share:
// sha256 is synchronous and keeps no reference to its input.
const INNER_PREFIX = 0x01;
const innerInput = new Uint8Array(65);

interface Packed {
  keyHashes: Uint8Array;
  valueHashes: Uint8Array;
  /** Entry indexes, permuted by the partitioning. */
  order: Int32Array;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function growBytes(b: Uint8Array): Uint8Array {
  const next = new Uint8Array(b.length * 2);
  next.set(b);
  return next;
}
