/**
 * The `certify` task of a replica's alarm, as I/O: the own ops the delivery core found still
 * uncertified `certifyAfterMs` after their ts go to every PBFT node again (a lost queue message
 * delays certification, never loses an op; the nodes dedupe, and an op certified once is never
 * certified again), and the nodes' answers go back to the core, which paces the next run
 * (shared/delivery/origin.ts, certify-pace.ts). True when the run stopped at its bound.
 */
import type { DeliveryEffects } from "../shared/delivery/effects.js";
import type { ReplicaBoundary } from "../platform/replica-boundary.js";
import type { Step } from "./delivery-clock.js";

export async function resubmit(
  boundary: ReplicaBoundary,
  submit: NonNullable<DeliveryEffects["submit"]>,
  step: Step,
): Promise<boolean> {
  const took = await boundary.submitToNodes(submit.ops);
  // none asked (the boundary sent nothing): the ops wait for the next run, at its usual period
  if (took.length === 0) return false;
  const answers = took.flatMap((t) => (t.status === "fulfilled" ? [t.value] : []));
  return step({
    kind: "nodesAnswered",
    nowMs: Date.now(),
    submitted: submit.ops.length,
    limit: submit.limit,
    answers,
  }).more;
}
