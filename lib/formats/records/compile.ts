/**
 * Each record shape is compiled once into a writer and a reader (names JSON-quoted, so no input
 * becomes code): the writer reads each property by its constant name and the reader builds a
 * record as one literal; a list is a function of its own with a loop. Walking the shape per
 * record and storing properties one by one cost about as much as the rest of the spill together
 * in a large x large join.
 */
import type { Shape } from './shape.ts';
import type { ShapedReader, ShapedWriter } from './shaped-io.ts';

/** Writes one record of a compiled shape; false when it does not have that shape. */
export type RecordWriter = (writer: ShapedWriter, record: unknown) => boolean;
/** Reads one record of a compiled shape. */
export type RecordReader = (reader: ShapedReader) => unknown;

/** Compiled shapes kept; past it a cache starts over (a run has a few shapes). */
const COMPILED_MAX = 64;
export const WRITERS = new Map<string, RecordWriter>();
export const READERS = new Map<string, RecordReader>();

/** The function compiled for the shape `json`, made by `make` on first use. */
export function compiled<F>(cache: Map<string, F>, json: string, make: () => F): F {
  let f = cache.get(json);
  if (f === undefined) {
    f = make();
    if (cache.size >= COMPILED_MAX) cache.clear();
    cache.set(json, f);
  }
  return f;
}

/** A writer of records of `shape`: checks each array and object, then writes each value by its constant path. */
export function compileWriter(shape: Shape): RecordWriter {
  const keys: (readonly string[])[] = [];
  const lists: string[] = [];
  const check = (s: Shape, at: string): string => {
    if (s === 0) return `w.value(${at})`;
    if ('each' in s) {
      // a list: a function of its own, which writes its length and checks and writes each item
      const n = lists.push('') - 1;
      lists[n] =
        `function L${n}(w, a) { if (!w.list(a)) return false; ` +
        `for (let i = 0; i < a.length; i++) if (!(${check(s.each, 'a[i]')})) return false; return true; }`;
      return `L${n}(w, ${at})`;
    }
    const parts = s.items.map((item, i) =>
      check(item, s.keys === undefined ? `${at}[${i}]` : `${at}[${JSON.stringify(s.keys[i])}]`),
    );
    const head =
      s.keys === undefined ? `w.array(${at}, ${s.items.length})` : `w.object(${at}, K[${keys.push(s.keys) - 1}])`;
    return [head, ...parts].join(' && ');
  };
  const body = check(shape, 'r');
  // built from JSON-quoted names and indices only: no input becomes code
  return new Function('K', `${lists.join('\n')}\nreturn (w, r) => ${body};`)(keys) as RecordWriter;
}

/** A reader of records of `shape`: each array and object one literal, its values read in order. */
export function compileReader(shape: Shape): RecordReader {
  const lists: string[] = [];
  const literal = (s: Shape): string => {
    if (s === 0) return 'r.value()';
    if ('each' in s) {
      const n = lists.push('') - 1;
      lists[n] =
        `function L${n}(r) { const n = r.count(); const a = new Array(n); ` +
        `for (let i = 0; i < n; i++) a[i] = ${literal(s.each)}; return a; }`;
      return `L${n}(r)`;
    }
    const items = s.items.map(literal);
    if (s.keys === undefined) return `[${items.join(', ')}]`;
    return `{ ${s.keys.map((key, i) => `${JSON.stringify(key)}: ${items[i]}`).join(', ')} }`;
  };
  const body = literal(shape);
  return new Function(`${lists.join('\n')}\nreturn (r) => (${body});`)() as RecordReader;
}
