import type { Env as AppEnv } from "../../workers/env.js";

declare global {
  namespace Cloudflare {
    interface Env extends AppEnv {}
  }
}
