/**
 * Clients whose background work (polls, evidence submissions) ends inside the test that made
 * them: code run after a test ends counts as module-level for mutation testing
 * (test/support/lazy.ts says why). Call once per file; pass each client through what it returns.
 */
import { afterEach } from "vitest";
import type { AspecClient } from "../../client/client.js";

export function endedAfterEach(): (c: AspecClient) => AspecClient {
  const clients: AspecClient[] = [];
  afterEach(async () => {
    const ended = clients.splice(0);
    for (const c of ended) c.close();
    await Promise.all(ended.map((c) => c.reported()));
  });
  return (c) => (clients.push(c), c);
}
