/**
 * A strict JSON parser for request bodies: RFC 8259 JSON, like `JSON.parse`, but it refuses what
 * `JSON.parse` silently resolves — a member name that appears twice in one object (`JSON.parse`
 * keeps the last, so two readers of one body could see different ops) and a member named
 * `__proto__` (see json-value.ts) — and nesting deeper than a bound. Iterative (an explicit stack),
 * so no input can exhaust the call stack. For text free of those three, it returns what
 * `JSON.parse` returns (the tests compare them).
 */

export type StrictJsonErrorKind = "syntax" | "duplicate" | "reserved_name" | "too_deep";

export class StrictJsonError extends Error {
  constructor(
    readonly kind: StrictJsonErrorKind,
    message: string,
    /** UTF-16 offset in the text where the problem was found. */
    readonly at: number,
  ) {
    super(message);
    this.name = "StrictJsonError";
  }
}

type Frame = { array: unknown[] } | { object: Record<string, unknown>; name: string };

const NUMBER_RE = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/**
 * Parse `text`, with containers nested at most `depthMax` deep (`[]` is 1 level). Throws
 * `StrictJsonError` for anything else.
 */
export function parseStrictJson(text: string, depthMax: number): unknown {
  let i = 0;
  const n = text.length;
  const stack: Frame[] = [];
  const fail = (kind: StrictJsonErrorKind, message: string, at = i): never => {
    throw new StrictJsonError(kind, message, at);
  };
  const skipWhitespace = () => {
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) return;
    }
  };
  const readString = (): string => {
    // i is at the opening quote: find the closing one, then let JSON.parse decode any escapes
    let j = i + 1;
    let escaped = false;
    for (;;) {
      if (j >= n) fail("syntax", "unterminated string");
      const c = text.charCodeAt(j);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        j += 2;
        continue;
      }
      if (c < 0x20) fail("syntax", "control character in a string", j);
      j++;
    }
    const raw = text.slice(i, j + 1);
    const at = i;
    i = j + 1;
    if (!escaped) return raw.slice(1, -1);
    try {
      return JSON.parse(raw) as string;
    } catch {
      return fail("syntax", "invalid escape in a string", at);
    }
  };
  /** Read `"name":` of the next member of `object`. */
  const readName = (object: Record<string, unknown>): string => {
    skipWhitespace();
    if (text.charCodeAt(i) !== 0x22) fail("syntax", "expected a member name");
    const at = i;
    const name = readString();
    if (name === "__proto__") fail("reserved_name", "a member named '__proto__'", at);
    if (Object.hasOwn(object, name)) fail("duplicate", `member '${name}' appears twice in one object`, at);
    skipWhitespace();
    if (text.charCodeAt(i) !== 0x3a) fail("syntax", "expected ':'");
    i++;
    return name;
  };

  for (;;) {
    // a value starts here
    skipWhitespace();
    let value: unknown;
    const c = text.charCodeAt(i);
    if (c === 0x7b || c === 0x5b) {
      if (stack.length >= depthMax) fail("too_deep", `nested deeper than ${depthMax} levels`);
      i++;
      skipWhitespace();
      if (c === 0x7b) {
        const object: Record<string, unknown> = {};
        if (text.charCodeAt(i) !== 0x7d) {
          stack.push({ object, name: readName(object) });
          continue;
        }
        i++;
        value = object;
      } else {
        if (text.charCodeAt(i) !== 0x5d) {
          stack.push({ array: [] });
          continue;
        }
        i++;
        value = [];
      }
    } else if (c === 0x22) value = readString();
    else if (text.startsWith("true", i)) ((value = true), (i += 4));
    else if (text.startsWith("false", i)) ((value = false), (i += 5));
    else if (text.startsWith("null", i)) ((value = null), (i += 4));
    else {
      NUMBER_RE.lastIndex = i;
      const m = NUMBER_RE.exec(text);
      if (!m) return fail("syntax", i >= n ? "unexpected end of input" : "unexpected character");
      value = Number(m[0]);
      i += m[0].length;
    }
    // the value is complete: hand it to its container, closing every container that ends here
    for (;;) {
      const top = stack[stack.length - 1];
      skipWhitespace();
      if (top === undefined) {
        if (i !== n) fail("syntax", "unexpected text after the value");
        return value;
      }
      const next = text.charCodeAt(i);
      if ("array" in top) {
        top.array.push(value);
        if (next === 0x2c) {
          i++;
          break; // on to the next element
        }
        if (next !== 0x5d) fail("syntax", "expected ',' or ']'");
        value = top.array;
      } else {
        top.object[top.name] = value; // never "__proto__" (refused above): a plain own property
        if (next === 0x2c) {
          i++;
          top.name = readName(top.object);
          break; // on to the next member's value
        }
        if (next !== 0x7d) fail("syntax", "expected ',' or '}'");
        value = top.object;
      }
      i++; // past the closing bracket
      stack.pop();
    }
  }
}
