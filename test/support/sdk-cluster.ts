/** A pinned PBFT cluster for SDK unit tests whose server never certifies (dev-seeded node keys). */
import type { ClusterInfo } from "../../shared/cluster-config.js";
import { testCluster } from "./sdk-deployment.js";

export const SDK_TEST_CLUSTER: ClusterInfo = (await testCluster()).info;
