/**
 * The metadata keys spillway writes into Arrow schemas, apart from the code that writes them so
 * that core's row views can read them without loading apache-arrow.
 */

/** Field metadata key marking a Utf8 column that holds JSON-encoded nested values. */
export const JSON_METADATA_KEY = 'spillway.json';
/** Schema metadata key telling that rows were arrays (`array`) rather than objects. */
export const ROWS_METADATA_KEY = 'spillway.rows';
/**
 * Field metadata key marking an Int64 column built from rows whose values were all bigints (rows
 * read with `int64: 'bigint'`): under the default `int64: 'auto'` its values read back as bigints,
 * so a stage that goes through Arrow (a sort, a spill) hands on the type it was given.
 */
export const INT64_METADATA_KEY = 'spillway.int64';

/** The `int64` read option a field asks for when none is given: `bigint` for a marked column. */
export function int64ModeOf(field: { metadata: Map<string, string> }): 'bigint' | undefined {
  return field.metadata.get(INT64_METADATA_KEY) === 'bigint' ? 'bigint' : undefined;
}

/**
 * A non-enumerable property a parallel() worker sets on the rows it decoded from an Arrow batch:
 * that batch's Schema, which says what the rows' values were (a DECIMAL is exact text in them).
 * A registered symbol, so code that loaded another copy of spillway reads it too.
 */
export const ROWS_SCHEMA: unique symbol = Symbol.for('spillway.rowsSchema') as never;
