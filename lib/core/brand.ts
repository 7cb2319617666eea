/**
 * Brands: how spillway recognises its own objects across copies of the package. Two copies in
 * one process (a global `spillway` CLI running a script that imports a local install) have two
 * `MemoryGovernor` classes, so `instanceof` fails between them; a `Symbol.for` key is the same
 * in both. {@link brandClass} also makes `instanceof` itself use the brand for the branded class
 * (not its subclasses), so existing checks work across copies.
 */

/** The names of spillway's branded classes. */
export type BrandName =
  | 'Batch'
  | 'MemoryGovernor'
  | 'BatchSource'
  | 'BatchTransform'
  | 'BatchSink'
  | 'Spilled'
  | 'WorkerPool';

const keys = new Map<BrandName, symbol>();

function key(name: BrandName): symbol {
  let symbol = keys.get(name);
  if (symbol === undefined) {
    symbol = Symbol.for(`spillway.brand.${name}`);
    keys.set(name, symbol);
  }
  return symbol;
}

/** True when `value` is an instance of the branded class `name` from any copy of spillway. */
export function hasBrand(value: unknown, name: BrandName): boolean {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    (value as Record<symbol, unknown>)[key(name)] === true
  );
}

/**
 * Brands `cls`: its instances carry the brand (on the prototype, so subclasses inherit it), and
 * `x instanceof cls` is true for instances of the same class from another copy of the package.
 * Subclasses keep the ordinary prototype check.
 */
export function brandClass(cls: abstract new (...args: never[]) => unknown, name: BrandName): void {
  Object.defineProperty(cls.prototype, key(name), { value: true });
  Object.defineProperty(cls, Symbol.hasInstance, {
    value(this: unknown, value: unknown): boolean {
      if (this === cls) return hasBrand(value, name);
      return Function.prototype[Symbol.hasInstance].call(this, value);
    },
  });
}
