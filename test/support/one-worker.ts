/**
 * The tests' one Worker (vitest.config.ts, `inOneWorker`): the edge's module and the nodes' Worker's
 * classes and entrypoint in one, so `cloudflare:test` reaches both.
 */
export { default, EdgeReplica, Directory, CertifiedInbox } from "../../workers/index.js";
export { PbftNode, Nodes } from "../../workers/pbft/index.js";
