/**
 * Production's `#dev-faults` (the wrangler configs' `alias`): installs nothing, mounts nothing.
 * Every host keeps its plain boundary, and nothing of platform/dev-faults/ but this file is bundled.
 */
import type { DevFaults } from "../dev-faults-hook.js";

export const devFaults: DevFaults = {
  replica: (plain) => ({ boundary: plain }),
  node: (plain) => ({ boundary: plain }),
  mountRoutes: () => {},
};
