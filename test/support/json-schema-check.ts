/**
 * A structural JSON Schema checker for the subset the OpenAPI document uses (what zod's
 * `toJSONSchema` emits for this API's schemas): type, const, enum, properties, required,
 * additionalProperties, items, anyOf, string lengths and pattern, number bounds. Any other keyword
 * is reported, so the checker never passes a value by not understanding its schema.
 */
type Schema = Record<string, unknown>;

const KNOWN = new Set([
  "type",
  "const",
  "enum",
  "properties",
  "required",
  "additionalProperties",
  "propertyNames",
  "items",
  "anyOf",
  "minLength",
  "maxLength",
  "pattern",
  "minimum",
  "maximum",
  "description",
]);

function typeOk(type: string, v: unknown): boolean {
  switch (type) {
    case "null":
      return v === null;
    case "boolean":
      return typeof v === "boolean";
    case "string":
      return typeof v === "string";
    case "number":
      return typeof v === "number";
    case "integer":
      return Number.isInteger(v);
    case "array":
      return Array.isArray(v);
    case "object":
      return typeof v === "object" && v !== null && !Array.isArray(v);
    default:
      return false;
  }
}

/** The problems of `value` against `schema` (empty: it conforms). */
export function schemaProblems(schema: Schema, value: unknown, at = "$"): string[] {
  const out: string[] = [];
  for (const k of Object.keys(schema)) if (!KNOWN.has(k)) out.push(`${at}: keyword '${k}' not understood`);
  if (schema.anyOf) {
    const options = schema.anyOf as Schema[];
    if (!options.some((s) => schemaProblems(s, value, at).length === 0))
      out.push(`${at}: matches none of ${options.length} alternatives`);
  }
  if (typeof schema.type === "string" && !typeOk(schema.type, value))
    return [...out, `${at}: expected ${schema.type}`];
  if ("const" in schema && value !== schema.const)
    out.push(`${at}: expected ${JSON.stringify(schema.const)}`);
  if (schema.enum && !(schema.enum as unknown[]).includes(value)) out.push(`${at}: not one of the enum`);
  if (typeof value === "string") {
    if (typeof schema.minLength === "number" && value.length < schema.minLength) out.push(`${at}: too short`);
    if (typeof schema.maxLength === "number" && value.length > schema.maxLength) out.push(`${at}: too long`);
    if (typeof schema.pattern === "string" && !new RegExp(schema.pattern, "u").test(value))
      out.push(`${at}: does not match ${schema.pattern}`);
  }
  if (typeof value === "number") {
    if (typeof schema.minimum === "number" && value < schema.minimum) out.push(`${at}: below minimum`);
    if (typeof schema.maximum === "number" && value > schema.maximum) out.push(`${at}: above maximum`);
  }
  if (Array.isArray(value) && schema.items)
    value.forEach((x, i) => out.push(...schemaProblems(schema.items as Schema, x, `${at}[${i}]`)));
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    const props = (schema.properties ?? {}) as Record<string, Schema>;
    const v = value as Record<string, unknown>;
    for (const r of (schema.required ?? []) as string[])
      if (!Object.hasOwn(v, r)) out.push(`${at}.${r}: missing`);
    for (const [k, x] of Object.entries(v)) {
      if (Object.hasOwn(props, k)) out.push(...schemaProblems(props[k]!, x, `${at}.${k}`));
      else if (schema.additionalProperties === false) out.push(`${at}.${k}: not allowed`);
      else if (typeof schema.additionalProperties === "object")
        out.push(...schemaProblems(schema.additionalProperties as Schema, x, `${at}.${k}`));
    }
  }
  return out;
}
