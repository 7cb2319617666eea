/**
 * Decoded Parquet columns -> Arrow, without row objects. The Arrow types follow the JavaScript
 * mapping of `types.ts`:
 *
 * | Parquet                                   | Arrow                                                  |
 * |-------------------------------------------|--------------------------------------------------------|
 * | BOOLEAN / FLOAT / DOUBLE                  | Bool / Float32 / Float64                               |
 * | INT32, INT64 (INT/UINT annotations)       | Int8..Int64, Uint8..Uint64 (Int64 whatever `int64` says) |
 * | FLOAT16                                   | Float32                                                |
 * | DECIMAL                                   | Decimal128 (Decimal256 above 38 digits), exact         |
 * | TIMESTAMP MILLIS/MICROS/NANOS             | Timestamp in that unit (`UTC` when adjusted to UTC)     |
 * | INT96                                     | Timestamp nanoseconds                                  |
 * | DATE / TIME                               | DateDay / Time in its unit (Utf8 `...+00` when UTC-adjusted) |
 * | UTF8/STRING/ENUM, UUID                    | Utf8                                                   |
 * | JSON                                      | Utf8 with field metadata `spillway.json` (rows parse it) |
 * | other BYTE_ARRAY / FIXED_LEN_BYTE_ARRAY   | Binary                                                 |
 * | LIST, repeated field                      | List (element nullable as in the file)                 |
 * | struct (group)                            | Struct                                                 |
 * | MAP                                       | Map (keys never null), entries in file order           |
 * | INTERVAL, GEOMETRY, VARIANT (top level)   | Utf8 JSON of the row value, metadata `spillway.json`, when JSON holds it exactly |
 *
 * Inside a list, struct or map, types Arrow cannot hold exactly as the rows path gives them
 * (INTERVAL, JSON, GEOMETRY, VARIANT...) are refused with an UnsupportedError naming the file and
 * the column, as is a JSON column whose value JSON text cannot carry exactly (a bigint, a date).
 *
 * Raw physical values are decoded for the native types (no Date or string per value): a
 * required column's typed array becomes the Arrow buffer as it is.
 */
import { RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import type { Data, Field } from 'apache-arrow';
import type { SchemaTree } from 'hyparquet';
import { jsonPlan, planArrowLeaf } from './arrow-leaf.ts';
import type { ArrowColumnPlan, LeafContext } from './arrow-leaf.ts';
import { planNestedColumn } from './arrow-nested.ts';
import { annotationOf } from './values.ts';
import type { InvalidUtf8 } from './values.ts';

export type { ArrowColumnPlan, RawDecode } from './arrow-leaf.ts';

/**
 * Plans the Arrow column of top-level schema node `node` (from the file's own metadata).
 * @param decoded the same node in the schema the rows path decodes with (raw plans start from it)
 * @param finish the rows path's finisher for this column
 */
export function planArrowColumn(
  node: SchemaTree,
  decoded: SchemaTree,
  finish: ((v: unknown, column: string) => unknown) | undefined,
  invalidUtf8: InvalidUtf8 = 'error',
  file = '',
): ArrowColumnPlan {
  const e = node.element;
  const name = e.name;
  const context: LeafContext = {
    name,
    field: name,
    nullable: e.repetition_type !== 'REQUIRED',
    finish: finish && ((v) => finish(v, name)),
    invalidUtf8,
    file,
  };
  // a VARIANT holds any value: JSON text, checked to give that value back
  if (annotationOf(e) === 'VARIANT') return jsonPlan(context);
  if (node.children.length > 0 || e.repetition_type === 'REPEATED') return planNestedColumn(node, decoded, context);
  return planArrowLeaf(e, decoded.element, context);
}

/** Assembles one RecordBatch from built columns. */
export function makeRecordBatch(fields: readonly Field[], children: Data[], n: number): RecordBatch {
  const schema = new Schema([...fields]);
  return new RecordBatch(schema, makeData({ type: new Struct(schema.fields), length: n, nullCount: 0, children }));
}
