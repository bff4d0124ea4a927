/** A pinned PBFT cluster for SDK unit tests whose server never certifies (dev-seeded node keys). */
import type { ClusterInfo } from "../../shared/cluster-config.js";
import { lazy } from "./lazy.js";
import { testCluster } from "./sdk-deployment.js";

/** Built inside the first test that asks (test/support/lazy.ts says why). */
export const sdkTestCluster: () => Promise<ClusterInfo> = lazy(async () => (await testCluster()).info);
