/**
 * V8 heap snapshots over CDP (`HeapProfiler.takeHeapSnapshot`, streamed as
 * `HeapProfiler.addHeapSnapshotChunk` events into a file) and a summary of one: count and self size
 * per constructor (the DevTools "summary" view), and what retains the objects new since an earlier
 * snapshot of the same session (object ids are stable within a session and grow, so "new" is "id
 * greater than the last snapshot's greatest id", as in DevTools' "comparison" view).
 */
import { createWriteStream, readFileSync } from "node:fs";
import type { CdpSession } from "./cdp.js";

/** Stream a snapshot into `file`; returns its size in bytes. The snapshot itself forces a full GC. */
export async function takeHeapSnapshot(cdp: CdpSession, file: string): Promise<number> {
  const out = createWriteStream(file);
  let bytes = 0;
  const off = cdp.on("HeapProfiler.addHeapSnapshotChunk", (p) => {
    const chunk = (p as { chunk: string }).chunk;
    bytes += Buffer.byteLength(chunk);
    out.write(chunk);
  });
  try {
    await cdp.send(
      "HeapProfiler.takeHeapSnapshot",
      { reportProgress: false, captureNumericValue: false },
      300_000,
    );
  } finally {
    off();
    await new Promise<void>((ok, fail) => out.end((e?: Error | null) => (e ? fail(e) : ok())));
  }
  return bytes;
}

interface RawSnapshot {
  snapshot: {
    meta: {
      node_fields: string[];
      node_types: [string[], ...unknown[]];
      edge_fields: string[];
      edge_types: [string[], ...unknown[]];
    };
  };
  nodes: number[];
  edges: number[];
  strings: string[];
}

export interface ClassStats {
  count: number;
  selfBytes: number;
}

export interface HeapSummary {
  file: string;
  nodes: number;
  totalSelfBytes: number;
  /** Greatest object id in the snapshot (ids of later objects are greater). */
  maxId: number;
  /** Per constructor ("Map", "(string)", "(closure) parseOp", "(array) (object elements)", ...). */
  byClass: Map<string, ClassStats>;
  /** Objects with id > `newerThan`, per constructor (empty if no `newerThan`). */
  newByClass: Map<string, ClassStats>;
  /** For the classes asked about: "retainer class .edge" → count, over the new objects of that class. */
  retainersOfNew: Map<string, Map<string, number>>;
}

/** The key objects are grouped by, close to DevTools' summary view. */
function classKey(type: string, name: string): string {
  switch (type) {
    case "object":
    case "native":
      return name;
    case "closure":
      return `(closure) ${name || "anonymous"}`;
    case "array":
      return `(array) ${name}`;
    case "string":
    case "concatenated string":
    case "sliced string":
      return "(string)";
    case "code":
      return "(compiled code)";
    case "hidden":
      return `(system) ${name.split(" ")[0] ?? ""}`.trim();
    default:
      return `(${type})`;
  }
}

/**
 * Summarize a snapshot file. `newerThan`: the maxId of an earlier snapshot of the same session.
 * `retainersFor`: classes whose new objects' retainers are wanted (one pass over the edges).
 */
export function summarizeSnapshot(
  file: string,
  newerThan?: number,
  retainersFor: string[] = [],
): HeapSummary {
  const raw = JSON.parse(readFileSync(file, "utf8")) as RawSnapshot;
  const m = raw.snapshot.meta;
  const nf = m.node_fields.length;
  const ef = m.edge_fields.length;
  const fType = m.node_fields.indexOf("type");
  const fName = m.node_fields.indexOf("name");
  const fId = m.node_fields.indexOf("id");
  const fSelf = m.node_fields.indexOf("self_size");
  const fEdges = m.node_fields.indexOf("edge_count");
  const eType = m.edge_fields.indexOf("type");
  const eName = m.edge_fields.indexOf("name_or_index");
  const eTo = m.edge_fields.indexOf("to_node");
  const nodeTypes = m.node_types[0];
  const edgeTypes = m.edge_types[0];
  const { nodes, edges, strings } = raw;
  const n = nodes.length / nf;
  const keys: string[] = new Array<string>(n);
  const byClass = new Map<string, ClassStats>();
  const newByClass = new Map<string, ClassStats>();
  const add = (map: Map<string, ClassStats>, k: string, self: number) => {
    const s = map.get(k);
    if (s) {
      s.count++;
      s.selfBytes += self;
    } else map.set(k, { count: 1, selfBytes: self });
  };
  let total = 0;
  let maxId = 0;
  for (let i = 0; i < n; i++) {
    const b = i * nf;
    const k = classKey(nodeTypes[nodes[b + fType]!] ?? "?", strings[nodes[b + fName]!] ?? "");
    keys[i] = k;
    const self = nodes[b + fSelf]!;
    const id = nodes[b + fId]!;
    total += self;
    if (id > maxId) maxId = id;
    add(byClass, k, self);
    if (newerThan !== undefined && id > newerThan) add(newByClass, k, self);
  }
  const wanted = new Set(retainersFor);
  const retainersOfNew = new Map<string, Map<string, number>>();
  if (wanted.size && newerThan !== undefined) {
    let e = 0;
    for (let i = 0; i < n; i++) {
      const count = nodes[i * nf + fEdges]!;
      for (let j = 0; j < count; j++, e += ef) {
        const type = edgeTypes[edges[e + eType]!] ?? "?";
        if (type === "weak" || type === "shortcut") continue;
        const to = edges[e + eTo]! / nf;
        const toKey = keys[to]!;
        if (!wanted.has(toKey) || nodes[to * nf + fId]! <= newerThan) continue;
        const nameOrIndex = edges[e + eName]!;
        const edgeName =
          type === "element" || type === "hidden" ? `[${type}]` : `.${strings[nameOrIndex] ?? "?"}`;
        const r = `${keys[i]} ${edgeName}`.slice(0, 90);
        const per = retainersOfNew.get(toKey) ?? new Map<string, number>();
        per.set(r, (per.get(r) ?? 0) + 1);
        retainersOfNew.set(toKey, per);
      }
    }
  }
  return { file, nodes: n, totalSelfBytes: total, maxId, byClass, newByClass, retainersOfNew };
}

export interface ClassDelta {
  key: string;
  countA: number;
  countB: number;
  bytesA: number;
  bytesB: number;
  /** Objects of the class in B that did not exist at A, and their self size. */
  newCount: number;
  newBytes: number;
}

/** Classes ordered by self-size growth from A to B (then by count growth). */
export function diffSummaries(a: HeapSummary, b: HeapSummary): ClassDelta[] {
  const keys = new Set([...a.byClass.keys(), ...b.byClass.keys()]);
  const out: ClassDelta[] = [];
  for (const key of keys) {
    const x = a.byClass.get(key) ?? { count: 0, selfBytes: 0 };
    const y = b.byClass.get(key) ?? { count: 0, selfBytes: 0 };
    const nw = b.newByClass.get(key) ?? { count: 0, selfBytes: 0 };
    out.push({
      key,
      countA: x.count,
      countB: y.count,
      bytesA: x.selfBytes,
      bytesB: y.selfBytes,
      newCount: nw.count,
      newBytes: nw.selfBytes,
    });
  }
  return out.sort(
    (p, q) => q.bytesB - q.bytesA - (p.bytesB - p.bytesA) || q.countB - q.countA - (p.countB - p.countA),
  );
}
