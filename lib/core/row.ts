/** The row type: what user functions see, one object per row. */

/**
 * A row: an object keyed by column name, or an array of values when there is no header. Typed
 * as `object` so that rows declared as interfaces (which have no index signature) fit.
 */
export type Row = object;
