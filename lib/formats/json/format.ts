/**
 * Rows as JSON Lines text, without losing bigints: `JSON.stringify` refuses them, and turning
 * them into strings would change their type for the reader. A row without bigints goes to
 * `JSON.stringify` as it is (the fast path); a row with one is stringified with each bigint as a
 * marked string, and the marks are then replaced by the bare digits. Dates become ISO strings,
 * as `JSON.stringify` makes them.
 */
import { nodeCrypto } from '../../core/crypto.ts';

/** A function that formats one row as one line (without the newline). */
export type JsonRowFormatter = (row: unknown) => string;

/** A row formatter; the marker is random per formatter, so no user string can be mistaken for one. */
export function jsonLineFormatter(): JsonRowFormatter {
  const token = `\u0000${nodeCrypto().randomBytes(6).toString('hex')}:`;
  const marked = new RegExp(`"\\\\u0000${token.slice(1)}(-?\\d+)"`, 'g');
  const replacer = (_key: string, value: unknown): unknown => (typeof value === 'bigint' ? `${token}${value}` : value);
  return (row) => {
    try {
      return JSON.stringify(row);
    } catch (error) {
      if (!(error instanceof TypeError) || !/BigInt/i.test(error.message)) throw error;
      return JSON.stringify(row, replacer).replace(marked, '$1');
    }
  };
}
