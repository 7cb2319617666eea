/**
 * Which Arrow columns rows hold as primitives. A map reading only such columns, and only during
 * its call, is given a row view in place of an object (lib/core/row-function.ts): it cannot tell
 * the two apart, as it could for a Date or a nested value, which a view makes anew at each read.
 */
import { type DataType, type Dictionary, type Field, Type } from 'apache-arrow';
import { JSON_METADATA_KEY } from './metadata-keys.ts';

/**
 * True when every value rows hold for `field` is a primitive (number, bigint, string, boolean or
 * null): then a function reading it through a row view cannot tell a value read twice from one
 * read once, as it could a Date, a Uint8Array or a nested object (each read makes a new one).
 */
export function primitiveValued(field: Field): boolean {
  return field.metadata.get(JSON_METADATA_KEY) !== 'true' && primitiveType(field.type as DataType);
}

function primitiveType(type: DataType): boolean {
  switch (type.typeId) {
    case Type.Null:
    case Type.Bool:
    case Type.Int:
    case Type.Float:
    case Type.Utf8:
    case Type.LargeUtf8:
    case Type.Utf8View:
    case Type.Decimal:
      return true;
    case Type.Dictionary:
      return primitiveType((type as Dictionary).dictionary as DataType);
    default:
      return false;
  }
}
