/** `Content-Type` of a request body: POST /v1/ops takes JSON in UTF-8 and nothing else. */

/**
 * Is `header` `application/json`, with any parameters (case-insensitive), whose `charset`, when
 * given, is UTF-8? The body is always decoded as UTF-8: a body declared in another charset would
 * be read as something else than its sender meant, so it is refused rather than guessed at.
 */
export function isJsonUtf8(header: string | null | undefined): boolean {
  if (header === null || header === undefined) return false;
  const [type, ...params] = header.split(";");
  if (type!.trim().toLowerCase() !== "application/json") return false;
  for (const p of params) {
    const eq = p.indexOf("=");
    if (eq < 0) continue;
    if (p.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    const value = p
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1")
      .toLowerCase();
    if (value !== "utf-8" && value !== "utf8") return false;
  }
  return true;
}
