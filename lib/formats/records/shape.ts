/**
 * A record's shape for the shaped form (record-codec.ts): 0 for a value, an array's item shapes,
 * an object's keys and their shapes, or a list (an array of any length whose items share one
 * shape). {@link shapeOf} reads it from the first record of a piece; the compiled writer checks
 * that every record has it.
 */
import { TYPED } from './tags.ts';

/** An array at least this long whose items look alike is a list (see the module comment). */
const MIN_LIST = 16;

/** A record's shape: 0 for a value, an array's shapes, an object's keys and shapes, or a list's item shape. */
export type Shape = 0 | { items: Shape[]; keys?: string[] } | { each: Shape };

/** The shape of `value`, or undefined when it has none the shaped form writes. */
export function shapeOf(value: unknown): Shape | undefined {
  if (typeof value !== 'object' || value === null || value instanceof Date) return 0;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (TYPED.some(([, type]) => type.prototype === proto)) return 0;
  if (proto === Array.prototype) {
    const array = value as unknown[];
    if (array.length >= MIN_LIST) {
      // sampled: the compiled writer checks every item
      const each = shapeOf(array[0]);
      const json = JSON.stringify(each);
      if (
        each !== undefined &&
        JSON.stringify(shapeOf(array[1])) === json &&
        JSON.stringify(shapeOf(array.at(-1))) === json
      )
        return { each };
    }
    const items: Shape[] = [];
    for (const item of value as unknown[]) {
      const shape = shapeOf(item);
      if (shape === undefined) return undefined;
      items.push(shape);
    }
    return { items };
  }
  if (proto !== Object.prototype) return undefined;
  const keys = Object.keys(value);
  // assigned back, `__proto__` would set the prototype instead of a property
  if (keys.includes('__proto__')) return undefined;
  const items: Shape[] = [];
  for (const key of keys) {
    const shape = shapeOf((value as Record<string, unknown>)[key]);
    if (shape === undefined) return undefined;
    items.push(shape);
  }
  return { items, keys };
}
