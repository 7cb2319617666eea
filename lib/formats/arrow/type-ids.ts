/**
 * The Arrow type ids spillway tests outside apache-arrow's own modules. They are the format's
 * (the `Type` union of Arrow's Schema.fbs, as apache-arrow's `Type` enum numbers them), so a module
 * can tell a column's type from `field.type.typeId` without loading apache-arrow (issue 17 item 8).
 * test/lib/formats/arrow/type-ids.test.ts checks them against the enum.
 */

/** `Type.List`. */
export const LIST_TYPE_ID = 12;
/** `Type.Struct`. */
export const STRUCT_TYPE_ID = 13;
/** `Type.Map`. */
export const MAP_TYPE_ID = 17;
/** `Type.Null`. */
export const NULL_TYPE_ID = 1;
/** `Type.Int`. */
export const INT_TYPE_ID = 2;
/** `Type.Float`. */
export const FLOAT_TYPE_ID = 3;
/** `Type.Utf8`. */
export const UTF8_TYPE_ID = 5;
/** `Type.Bool`. */
export const BOOL_TYPE_ID = 6;
/** `Type.Date`. */
export const DATE_TYPE_ID = 8;
/** `Type.Timestamp`. */
export const TIMESTAMP_TYPE_ID = 10;
