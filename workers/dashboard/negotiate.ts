/** `GET /`'s content negotiation: a browser's navigation gets the dashboard, API clients the JSON index. */

/** One `Accept` entry's q for a media type: exact match, `type/*`, or `*\/*`; the most specific wins. */
function qualityOf(accept: string, type: string): number {
  const [major] = type.split("/");
  let best = -1;
  let q = 0;
  for (const part of accept.split(",")) {
    const [range, ...params] = part.trim().toLowerCase().split(";");
    if (!range) continue;
    const specificity = range === type ? 3 : range === `${major}/*` ? 2 : range === "*/*" ? 1 : 0;
    if (specificity === 0 || specificity < best) continue;
    let entryQ = 1;
    for (const p of params) {
      const [k, v] = p.trim().split("=");
      if (k === "q") entryQ = Number(v);
    }
    if (!Number.isFinite(entryQ)) entryQ = 0;
    if (specificity > best) [best, q] = [specificity, entryQ];
    else q = Math.max(q, entryQ);
  }
  return best < 0 ? 0 : q;
}

/**
 * Whether `Accept` prefers `text/html` to `application/json` (a browser's navigation does). No
 * `Accept`, `*\/*`, or a tie keeps the JSON index, as API clients have always had it.
 */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  return qualityOf(accept, "text/html") > qualityOf(accept, "application/json");
}
