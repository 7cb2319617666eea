/**
 * Dictionary columns built from JS values. One encoder serves one column of one output: its
 * dictionary grows across batches as chunks, each batch's dictionary holding the ones before, so
 * apache-arrow's writer sends the new values as a delta (the Arrow file format refuses a
 * dictionary that is replaced, and a fresh dictionary per batch would be one).
 */
import { type Data, type Dictionary, Field, makeData, Vector } from 'apache-arrow';
import { UnsupportedError } from '../../core/errors.ts';
import { validityOf } from './build-checks.ts';

/** A key for -0 apart from 0 (a Map takes them for one key, and -0 would come back as 0). */
const NEGATIVE_ZERO = Symbol('-0');

/** Builds the dictionary's values (build.ts buildColumn, with its checks). */
type BuildValues = (field: Field, values: readonly unknown[]) => Data;

/** Encodes the values of one Dictionary column, batch after batch, against one growing dictionary. */
export class DictionaryEncoder {
  readonly #ids = new Map<unknown, number>();
  readonly #chunks: Data[] = [];
  readonly #valueField: Field;

  /** `field`: the Dictionary column; `build`: builds its value type from JS values. */
  constructor(
    readonly field: Field<Dictionary>,
    readonly build: BuildValues,
  ) {
    this.#valueField = new Field(field.name, field.type.dictionary, true, field.metadata);
  }

  /** The column of `values`, indices into the dictionary so far plus the values it did not hold. */
  encode(values: readonly unknown[]): Data<Dictionary> {
    const type = this.field.type;
    const { isSigned } = type.indices;
    const bitWidth: number = type.indices.bitWidth;
    const limit = isSigned ? 2 ** (bitWidth - 1) - 1 : 2 ** bitWidth - 1;
    const wide = bitWidth === 64;
    const indices = new type.indices.ArrayType(values.length) as Int32Array | BigInt64Array;
    const fresh = new Map<unknown, number>();
    const freshValues: unknown[] = [];
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (v === null || v === undefined) continue;
      const key = Object.is(v, -0) ? NEGATIVE_ZERO : v;
      let id = this.#ids.get(key) ?? fresh.get(key);
      if (id === undefined) {
        id = this.#ids.size + fresh.size;
        if (id > limit)
          throw new UnsupportedError(
            `Column "${this.field.name}" holds more distinct values than its ${String(type.indices)} dictionary indices can number (${limit + 1}); declare wider indices`,
            {},
          );
        fresh.set(key, id);
        freshValues.push(v);
      }
      (indices as unknown as (number | bigint)[])[i] = wide ? BigInt(id) : id;
    }
    // the new values are built (and checked) before the encoder keeps them
    if (freshValues.length > 0 || this.#chunks.length === 0) {
      this.#chunks.push(this.build(this.#valueField, freshValues));
      for (const [key, id] of fresh) this.#ids.set(key, id);
    }
    const { bitmap, nullCount } = validityOf(values);
    // apache-arrow's typings know no Int64 indices, which the format allows
    const props = {
      type,
      length: values.length,
      nullCount,
      nullBitmap: bitmap,
      data: indices as Int32Array,
      dictionary: new Vector(this.#chunks.slice()),
    };
    return makeData(props as unknown as Parameters<typeof makeData>[0]) as unknown as Data<Dictionary>;
  }
}
