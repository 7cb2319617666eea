/** Validation of the key column lists the hash operators take (`'sym'` or `['sym', 'day']`). */
import { ValidationError, describeValue } from '../core/errors.ts';

/** Normalises `keys` to a non-empty list of distinct column names; `path` names the argument. */
export function expectKeyColumns(keys: unknown, path: string): string[] {
  const list = typeof keys === 'string' ? [keys] : keys;
  if (!Array.isArray(list) || list.length === 0)
    throw new ValidationError(
      `Expected \`${path}\` to be a column name or a non-empty array of column names, got ${describeValue(keys)}`,
    );
  const seen = new Set<string>();
  for (const [i, name] of list.entries()) {
    if (typeof name !== 'string' || name === '')
      throw new ValidationError(`Expected \`${path}[${i}]\` to be a non-empty string, got ${describeValue(name)}`);
    if (seen.has(name)) throw new ValidationError(`Column "${name}" appears twice in \`${path}\``);
    seen.add(name);
  }
  return list as string[];
}
