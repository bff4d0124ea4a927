/**
 * Dev fault settings as they cross RPC (`setFaults`, a node's `status().faults`): names to switches,
 * and a node's `delayMs` range. Only the fault modules (platform/dev-faults/) know the names.
 */
export type FaultSettings = Record<string, boolean | readonly number[]>;
