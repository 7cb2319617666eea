/**
 * The form apache-arrow's builders take a nested column's values in, and the form its values are
 * compared in once read back (input-types.ts `buildTyped`). A 64-bit integer leaf (a STRUCT field,
 * a LIST element, a MAP key or value) is read as a number when it is a safe integer and as a
 * bigint otherwise (int64 'auto'), and apache-arrow's Int64 builder refuses a number: both forms
 * are made a bigint here, so that a value goes in and compares by its integer. Nothing else is
 * changed: a leaf of another form (a fraction, -0, an unsafe number) stays as it is, and the
 * builder refuses it or the read-back check does, so a value never changes.
 *
 * A decimal leaf is read as its decimal text (`'12.50'`), and apache-arrow's Decimal builder takes
 * the unscaled integer's 32-bit words: for the builder the text is made those words (text of
 * another scale or precision stays, and is refused), and it is compared as the text it is. Without
 * this, a DECIMAL inside a LIST kept the whole batch as rows, and a groupBy or distinct wrote every
 * column typed from its values (a BIGINT key as DOUBLE, a DECIMAL as VARCHAR).
 */
import { type DataType, type Decimal, type Field, Type } from 'apache-arrow';
import { decimalWords, unscaledDecimal } from '../formats/arrow/decimal.ts';

/** True when `type` or a type nested in it is a 64-bit integer or a decimal (the only leaves made over). */
export function hasMadeOverLeaf(type: DataType): boolean {
  if (type.typeId === Type.Int) return (type as unknown as { bitWidth: number }).bitWidth === 64;
  if (type.typeId === Type.Decimal) return true;
  const children = (type as { children?: Field[] }).children;
  return children?.some((child) => hasMadeOverLeaf(child.type)) ?? false;
}

/** Decimal text that fits `type` exactly, as the words its builder takes; any other value as it is. */
function decimalForm(type: Decimal, v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const units = unscaledDecimal(v, type.precision, type.scale);
  if (units === undefined) return v;
  const stride = type.bitWidth / 32;
  const words = new Uint32Array(stride);
  decimalWords(units, words, 0, stride);
  return words;
}

/** A number that is one exact 64-bit integer, as the bigint the builder takes (-0 and unsafe numbers stay). */
function int64Form(v: unknown): unknown {
  return typeof v === 'number' && Number.isSafeInteger(v) && !Object.is(v, -0) ? BigInt(v) : v;
}

/**
 * Value `v` of `type` with its 64-bit integer leaves as bigints (see the module comment); a map
 * stays in the form it came in (its entries `[{ key, value }]`, or a Map). `forBuilder` gives the
 * form apache-arrow's builders take: map entries a Map, decimal text its words. A value whose
 * shape is not the type's is returned as it is (the builder refuses it or the read-back check does).
 */
export function nestedCanonical(type: DataType, v: unknown, forBuilder = false): unknown {
  if (v === null || v === undefined) return v;
  switch (type.typeId) {
    case Type.Int:
      return (type as unknown as { bitWidth: number }).bitWidth === 64 ? int64Form(v) : v;
    case Type.Decimal:
      return forBuilder ? decimalForm(type as Decimal, v) : v;
    case Type.List:
    case Type.LargeList:
    case Type.FixedSizeList: {
      if (!Array.isArray(v)) return v;
      const child = (type.children as Field[])[0]!.type;
      return v.map((item) => nestedCanonical(child, item, forBuilder));
    }
    case Type.Struct:
      return structForm(type.children as Field[], v, forBuilder);
    case Type.Map:
      return mapForm(type.children as Field[], v, forBuilder);
    default:
      return v;
  }
}

function structForm(fields: readonly Field[], v: unknown, forBuilder: boolean): unknown {
  if (typeof v !== 'object' || Array.isArray(v) || v instanceof Date || ArrayBuffer.isView(v)) return v;
  const row = v as Record<string, unknown>;
  const out: Record<string, unknown> = { ...row };
  for (const field of fields)
    if (field.name in row) out[field.name] = nestedCanonical(field.type, row[field.name], forBuilder);
  return out;
}

function mapForm(children: readonly Field[], v: unknown, forBuilder: boolean): unknown {
  const [keyField, valueField] = (children[0]!.type.children as Field[]) ?? [];
  if (!keyField || !valueField) return v;
  const entries =
    v instanceof Map
      ? [...v].map(([key, value]) => ({ key, value }))
      : Array.isArray(v)
        ? (v as { key: unknown; value: unknown }[])
        : undefined;
  if (entries === undefined) return v;
  const out = entries.map((e) =>
    e === null || typeof e !== 'object'
      ? e
      : {
          ...e,
          key: nestedCanonical(keyField.type, e.key, forBuilder),
          value: nestedCanonical(valueField.type, e.value, forBuilder),
        },
  );
  if (!forBuilder) return v instanceof Map ? new Map(out.map((e) => [e.key, e.value])) : out;
  return new Map(out.map((e) => [e!.key, e!.value]));
}
