/**
 * What the `#dev-faults` module exports (package.json `imports`; the one import through which fault
 * injection is reached). Under `wrangler dev` and in the tests it is platform/dev-faults/index.ts;
 * both Workers' wrangler configs alias it to platform/dev-faults/none.ts, which installs nothing, so
 * `wrangler deploy` bundles no fault code (test/unit/production-bundle.test.ts checks it).
 */
import type { Context, Hono } from "hono";
import type { FaultSettings } from "../shared/rpc/fault-settings.js";
import type { Env } from "./env.js";
import type { NodeBoundary } from "./node-boundary.js";
import type { ReplicaBoundary } from "./replica-boundary.js";

/** What a host gives the fault wrapper: its SQLite (to keep the faults across evictions) and its gate. */
export interface FaultHost {
  sql: SqlStorage;
  env: { ENVIRONMENT?: string; FAULT_TOKEN?: string };
}

/** The switch of an installed wrapper: replace the faults (`{}`: none), read them back. */
export interface FaultSwitch {
  /** Parses `raw` (throws on what it refuses) and stores it; returns the faults now in force. */
  set(raw: unknown): FaultSettings;
  current(): FaultSettings;
}

/** A host's boundary as installed: the plain one, or a wrapper around it and its switch. */
export interface Installed<B> {
  boundary: B;
  faults?: FaultSwitch;
}

/** The edge's JSON body reader (workers/json-body.ts), passed in: platform/ never imports workers/. */
export type ReadJsonBody = (c: Context, limits: { bytes: number; depth: number }) => Promise<unknown>;

export interface DevFaults {
  replica(plain: ReplicaBoundary, host: FaultHost): Installed<ReplicaBoundary>;
  node(plain: NodeBoundary, host: FaultHost & { me: number }): Installed<NodeBoundary>;
  /** The dev routes (none in production: their paths then answer as unknown routes do). */
  mountRoutes(app: Hono<{ Bindings: Env }>, readJsonBody: ReadJsonBody): void;
}
