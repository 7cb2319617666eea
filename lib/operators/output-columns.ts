/**
 * Arrow columns an operator builds for its output from JS values, typed as `toParquet` (and the
 * rows-to-Arrow conversion it shares) types the same values held in rows: numbers Float64,
 * strings Utf8, booleans Bool. A column whose values are of another kind (bigints, dates,
 * objects, undefined, strings with a lone surrogate), mix kinds, or are all null has no such type here: its operator outputs rows
 * instead, as before, so a file is the same whichever form the operator emitted.
 *
 * Also the Utf8 column of a key dictionary's text codes, copied from the dictionary's UTF-8 bytes
 * without a JS string per value (the value a group table holds for a text key read from Arrow).
 */
import { Bool, Data, Float64, Utf8, type DataType } from 'apache-arrow';
import type { KeyDictionary } from './key-dictionary.ts';
import { copyBytes } from './string-codes.ts';
import { wellFormed } from '../formats/values.ts';

const FLOAT64 = new Float64();
const UTF8 = new Utf8();
const BOOL = new Bool();

/**
 * The one type of `values` as rows would be written (see the module comment), or undefined. A
 * string with a lone surrogate has none: rows keep it exactly, a Utf8 column could not.
 */
export function simpleType(values: ArrayLike<unknown>): DataType | undefined {
  let kind: string | undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null) continue;
    const k = typeof v;
    // undefined: rows keep it apart from null, an Arrow column could not
    if (k === 'undefined' || (k === 'string' && !wellFormed(v as string))) return undefined;
    if (kind === undefined) {
      if (k !== 'number' && k !== 'string' && k !== 'boolean') return undefined;
      kind = k;
    } else if (k !== kind) return undefined;
  }
  if (kind === 'number') return FLOAT64;
  if (kind === 'string') return UTF8;
  if (kind === 'boolean') return BOOL;
  return undefined;
}

/** Bytes of a validity bitmap of `n` bits, padded to 8 bytes as Arrow's writers pad it. */
function bitmapBytes(n: number): number {
  return ((n + 63) >> 6) << 3;
}

/**
 * The Utf8 column of the values of `codes` in `dict`, when each is a text code (held as UTF-8
 * bytes) or the null code; undefined when some code holds another value, or all are null.
 */
export function textColumn(dict: KeyDictionary, codes: Int32Array): Data | undefined {
  const n = codes.length;
  const entries = dict.textEntries;
  const strings = dict.strings;
  const arena = strings.arena;
  const starts = strings.starts;
  let bytes = 0;
  let nulls = 0;
  for (let k = 0; k < n; k++) {
    const code = codes[k]!;
    const entry = code < entries.length ? entries[code]! - 1 : -1;
    if (entry >= 0) bytes += starts[entry + 1]! - starts[entry]!;
    else if (dict.value(code) === null) nulls++;
    else return undefined;
  }
  if (nulls === n) return undefined;
  const data = new Uint8Array(bytes);
  const offsets = new Int32Array(n + 1);
  const validity = nulls > 0 ? new Uint8Array(bitmapBytes(n)) : undefined;
  // values whose entries follow one another in the arena are copied as one run: a group table's
  // groups come in the order their keys were first seen, so a column of keys unique to their group
  // (a time) is one run, copied at once
  let at = 0;
  let runFrom = 0;
  let runTo = 0;
  for (let k = 0; k < n; k++) {
    const code = codes[k]!;
    const entry = code < entries.length ? entries[code]! - 1 : -1;
    if (entry >= 0) {
      const s = starts[entry]!;
      const e = starts[entry + 1]!;
      if (s !== runTo) {
        copyBytes(arena, runFrom, runTo, data, at - (runTo - runFrom));
        runFrom = s;
      }
      runTo = e;
      at += e - s;
      if (validity) validity[k >> 3]! |= 1 << (k & 7);
    }
    offsets[k + 1] = at;
  }
  copyBytes(arena, runFrom, runTo, data, at - (runTo - runFrom));
  return new Data(UTF8, 0, n, nulls, [offsets, data, validity] as never);
}
