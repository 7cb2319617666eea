/**
 * The metadata keys spillway writes into Arrow schemas, apart from the code that writes them so
 * that core's row views can read them without loading apache-arrow.
 */

/** Field metadata key marking a Utf8 column that holds JSON-encoded nested values. */
export const JSON_METADATA_KEY = 'spillway.json';
/** Schema metadata key telling that rows were arrays (`array`) rather than objects. */
export const ROWS_METADATA_KEY = 'spillway.rows';
