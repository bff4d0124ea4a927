/** The certified state machine, authenticated state, proofs and certificates: one import for callers. */
export * from "./types.js";
export * from "./hashing.js";
export * from "./node-store.js";
export * from "./record-store.js";
export * from "./merkle-map.js";
export * from "./results.js";
export * from "./proofs.js";
export * from "./execute.js";
export * from "./state-machine.js";
export * from "./certificate.js";
export * from "./cluster-id.js";
