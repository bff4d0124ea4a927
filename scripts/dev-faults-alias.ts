/**
 * The `wrangler` arguments that put dev fault injection into a bundle: `#dev-faults` → the fault
 * modules (platform/dev-faults/index.ts), over both configs' `alias` to none.ts, which is what
 * `wrangler deploy` bundles. `npm run dev` and the e2e tests' `wrangler dev` pass them; a plain
 * `npx wrangler dev` does not, and serves without fault injection (`/v1/dev/faults` is then unknown).
 * An absolute path: wrangler resolves an alias from the config's folder, which differs per Worker.
 */
import { join } from "node:path";

export const devFaultsAlias = (root: string): string[] => [
  "--alias",
  `#dev-faults:${join(root, "platform", "dev-faults", "index.ts")}`,
];
