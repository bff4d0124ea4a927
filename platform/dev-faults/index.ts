/**
 * DEV ONLY: `#dev-faults` under `wrangler dev` and in the tests (package.json `imports`). Each host
 * hands its plain boundary in; where fault injection is allowed (ENVIRONMENT "dev" and a
 * FAULT_TOKEN configured: `faultInjectionAllowed`) it gets the fault wrapper and its switch back,
 * elsewhere its plain boundary, untouched. Production bundles ./none.ts instead (the wrangler
 * configs' `alias`), so none of this directory is deployed.
 */
import { faultInjectionAllowed } from "../../shared/config.js";
import type { DevFaults, FaultHost } from "../dev-faults-hook.js";
import { nodeWithFaults } from "./node.js";
import { replicaWithFaults } from "./replica.js";
import { mountFaultRoutes } from "./routes.js";

const allowed = (host: FaultHost): boolean => faultInjectionAllowed(host.env, host.env.FAULT_TOKEN);

export const devFaults: DevFaults = {
  replica: (plain, host) => (allowed(host) ? replicaWithFaults(plain, host) : { boundary: plain }),
  node: (plain, host) => (allowed(host) ? nodeWithFaults(plain, host) : { boundary: plain }),
  mountRoutes: mountFaultRoutes,
};
