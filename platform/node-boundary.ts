/**
 * Everything a PbftNode lets out beyond its protocol core goes through one `NodeBoundary`: how it
 * answers calls, the messages the driver seals (`rewrite`, the driver's one hook), each send's
 * timing, the certified batches it posts and serves, and the certificates it hands out. The Durable
 * Object builds the plain boundary here and hands it to `devFaults.node` (the `#dev-faults` module),
 * which in dev may wrap it; in production that module returns it unchanged (docs/architecture.md,
 * "Dev faults").
 */
import type { Certificate } from "../shared/certified/types.js";
import type { Outgoing } from "../shared/pbft/effects.js";
import type { CertifiedBatchMessage } from "../shared/wire/certified-batch.js";

export interface NodeBoundary {
  /** Awaited before a call from a peer or a replica is answered. */
  hold(): Promise<void>;
  /** Whether the node answers replicas asking for kept batches, its transfer point and state chunks. */
  serves(): boolean;
  /** What the driver seals instead of `out` (`DriverHooks.rewrite`). */
  rewrite(out: Outgoing): readonly Outgoing[];
  /** How long one send to a peer waits before it leaves (ms; 0: at once). */
  sendDelayMs(): number;
  /** A certificate as it leaves the node (posted, served, handed to a replica catching up). */
  certificate(c: Certificate): Certificate;
  /** Whether the node posts certified batches at all (as a seq's poster or its fallback). */
  posts(): boolean;
  /** Awaited before a post is handed to the edge. */
  beforePost(): Promise<void>;
  /** What is handed to the edge for a posted batch `msg` whose wire text is `text`. */
  postPayload(msg: CertifiedBatchMessage, text: string): unknown;
  /** The text served to a replica for a kept batch (`msg` already carries `certificate(…)`'s certificate). */
  servedText(msg: CertifiedBatchMessage, text: string): string;
}

/** The boundary as deployed: everything leaves as the core and the shell decided it. */
export const plainNodeBoundary: NodeBoundary = {
  hold: () => Promise.resolve(),
  serves: () => true,
  rewrite: (out) => [out],
  sendDelayMs: () => 0,
  certificate: (c) => c,
  posts: () => true,
  beforePost: () => Promise.resolve(),
  postPayload: (_msg, text) => text,
  servedText: (_msg, text) => text,
};
