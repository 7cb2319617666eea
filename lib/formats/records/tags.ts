/**
 * The value tags of the shaped record form (record-codec.ts): one byte before each value, its
 * payload after it. Typed arrays of these three types are values too (a subclass, such as Buffer,
 * is not: it is cloned).
 */

export const NULL = 0;
export const UNDEFINED = 1;
export const FALSE = 2;
export const TRUE = 3;
export const INT = 4;
export const FLOAT = 5;
export const STRING = 6;
export const BIGINT = 7;
export const DATE = 8;
export const FLOAT64S = 9;
export const INT32S = 10;
export const UINT8S = 11;
export const PRECISE_DATE = 12;

/** The typed arrays written as values, by tag (a subclass, such as Buffer, is cloned). */
export const TYPED: readonly [number, Float64ArrayConstructor | Int32ArrayConstructor | Uint8ArrayConstructor][] = [
  [FLOAT64S, Float64Array],
  [INT32S, Int32Array],
  [UINT8S, Uint8Array],
];
