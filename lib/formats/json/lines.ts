/**
 * JSON Lines parsing without losing integers: `JSON.parse` turns 9007199254740993 into
 * 9007199254740992, silently. A line whose text has no run of 16 or more digits cannot hold an
 * integer beyond 2^53, so it goes to `JSON.parse` (the fast path, nearly every line); the other
 * lines go to a small exact parser that makes integers beyond Number.MAX_SAFE_INTEGER bigints and
 * everything else exactly what `JSON.parse` makes. Node 20 has no `JSON.parse` source access
 * (the reviver's `context.source`), hence the parser. It also reads the bare `NaN` and
 * `Infinity` DuckDB and Python write.
 */

/** Lines that might hold an unsafe integer: 16+ digits in a row (2^53 has 16 digits). */
const LONG_DIGITS = /\d{16}/;

/** A JSON syntax error with the character offset in the line. */
export class JsonSyntaxError extends SyntaxError {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(`${message} at character ${offset + 1}`);
    this.offset = offset;
  }
}

/** Lines that might hold a bare NaN or Infinity (DuckDB's and Python's JSON writers make them). */
const NON_FINITE = /NaN|Infinity/;

/**
 * Parses one JSON text; integers beyond 2^53 - 1 (in magnitude) become bigint, and the bare
 * tokens `NaN`, `Infinity` and `-Infinity` that DuckDB's and Python's JSON writers make (not
 * JSON, which has no such numbers) are read as those numbers, as DuckDB reads them back.
 */
export function parseJsonExact(text: string): unknown {
  if (!LONG_DIGITS.test(text)) {
    try {
      return JSON.parse(text);
    } catch (error) {
      // the exact parser only where a token JSON.parse refuses may be why (its message otherwise)
      if (!NON_FINITE.test(text)) throw error;
    }
  }
  return new ExactParser(text).parseDocument();
}

class ExactParser {
  readonly #text: string;
  #i = 0;
  constructor(text: string) {
    this.#text = text;
  }

  parseDocument(): unknown {
    const value = this.#value();
    this.#ws();
    if (this.#i < this.#text.length) this.#fail('Unexpected text after the JSON value');
    return value;
  }

  #fail(message: string): never {
    throw new JsonSyntaxError(message, this.#i);
  }

  #ws(): void {
    const t = this.#text;
    while (this.#i < t.length) {
      const c = t.charCodeAt(this.#i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) this.#i++;
      else break;
    }
  }

  #value(): unknown {
    this.#ws();
    const t = this.#text;
    const c = t[this.#i];
    switch (c) {
      case '{':
        return this.#object();
      case '[':
        return this.#array();
      case '"':
        return this.#string();
      case 't':
        return this.#literal('true', true);
      case 'f':
        return this.#literal('false', false);
      case 'n':
        return this.#literal('null', null);
      case 'N':
        return this.#literal('NaN', Number.NaN);
      case 'I':
        return this.#literal('Infinity', Number.POSITIVE_INFINITY);
      default:
        if (c === '-' && t[this.#i + 1] === 'I') {
          this.#i++;
          return this.#literal('Infinity', Number.NEGATIVE_INFINITY);
        }
        if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return this.#number();
        return this.#fail(c === undefined ? 'Unexpected end of JSON' : `Unexpected character ${JSON.stringify(c)}`);
    }
  }

  #literal<T>(word: string, value: T): T {
    if (this.#text.startsWith(word, this.#i)) {
      this.#i += word.length;
      return value;
    }
    return this.#fail('Invalid literal');
  }

  #object(): Record<string, unknown> {
    this.#i++;
    const out: Record<string, unknown> = {};
    this.#ws();
    if (this.#text[this.#i] === '}') {
      this.#i++;
      return out;
    }
    for (;;) {
      this.#ws();
      if (this.#text[this.#i] !== '"') this.#fail('Expected a property name');
      const key = this.#string();
      this.#ws();
      if (this.#text[this.#i] !== ':') this.#fail("Expected ':'");
      this.#i++;
      // defineProperty, as JSON.parse does: a "__proto__" key is an own property
      Object.defineProperty(out, key, { value: this.#value(), enumerable: true, writable: true, configurable: true });
      this.#ws();
      const c = this.#text[this.#i++];
      if (c === '}') return out;
      if (c !== ',') {
        this.#i--;
        this.#fail("Expected ',' or '}'");
      }
    }
  }

  #array(): unknown[] {
    this.#i++;
    const out: unknown[] = [];
    this.#ws();
    if (this.#text[this.#i] === ']') {
      this.#i++;
      return out;
    }
    for (;;) {
      out.push(this.#value());
      this.#ws();
      const c = this.#text[this.#i++];
      if (c === ']') return out;
      if (c !== ',') {
        this.#i--;
        this.#fail("Expected ',' or ']'");
      }
    }
  }

  #string(): string {
    const t = this.#text;
    const start = this.#i;
    let i = start + 1;
    let escaped = false;
    for (; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        i++;
      } else if (c < 0x20) {
        this.#i = i;
        this.#fail('Bad control character in string');
      }
    }
    if (i >= t.length) {
      this.#i = i;
      this.#fail('Unterminated string');
    }
    this.#i = i + 1;
    const raw = t.slice(start, i + 1);
    if (!escaped) return raw.slice(1, -1);
    try {
      return JSON.parse(raw) as string;
    } catch {
      this.#i = start;
      return this.#fail('Bad escape in string');
    }
  }

  #number(): number | bigint {
    const t = this.#text;
    const start = this.#i;
    // sticky at the number, however long (a 450-digit literal is valid JSON; a 400-character window cut it)
    NUMBER.lastIndex = start;
    const m = NUMBER.exec(t);
    if (!m) return this.#fail('Invalid number');
    const text = m[0];
    this.#i = start + text.length;
    if (m[1] === undefined && m[2] === undefined) {
      const n = Number(text);
      return Number.isSafeInteger(n) ? n : BigInt(text);
    }
    return Number(text);
  }
}

/** A JSON number at `lastIndex`. */
const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
