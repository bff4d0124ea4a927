/**
 * A request's query string read strictly, for the routes whose parameters are data (a listing's
 * prefix and cursor): form-encoded as `URLSearchParams` writes it (`+` is a space), percent-decoded
 * once as UTF-8; a value that is not valid percent-encoded UTF-8, or a parameter given twice, is
 * `400 invalid_request` rather than silently replaced or picked (Hono's `query()` does both).
 */
import { AspecError } from "../shared/errors.js";

export function strictQuery(url: string, names: readonly string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  const search = new URL(url).search.slice(1);
  if (search === "") return out;
  for (const part of search.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const rawName = eq < 0 ? part : part.slice(0, eq);
    const rawValue = eq < 0 ? "" : part.slice(eq + 1);
    const name = decode(rawName, "a parameter name");
    if (!names.includes(name)) continue; // others (e.g. `replica`) are read elsewhere
    if (Object.hasOwn(out, name)) throw new AspecError("invalid_request", `\`${name}\` is given twice`);
    out[name] = decode(rawValue, `\`${name}\``);
  }
  return out;
}

function decode(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw.replaceAll("+", " "));
  } catch {
    throw new AspecError("invalid_request", `${what} is not percent-encoded UTF-8`);
  }
}
