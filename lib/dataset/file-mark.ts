/**
 * The mark the dataset layer puts on the options of the single-file source it opens for one of
 * its files: such a source reads its input as one file (a remote URL, itself a dataset input, is
 * not wrapped again), and leaves what only a file read on its own does (the empty batch that
 * carries the columns of a file of no rows) to the dataset.
 */

/** The option key of the mark (a symbol: no user option can set it). */
export const DATASET_FILE: unique symbol = Symbol('spillway.datasetFile');

/** True for the options the dataset layer gives the source of one of its files. */
export function isDatasetFile(options: unknown): boolean {
  return options !== null && typeof options === 'object' && (options as Record<symbol, unknown>)[DATASET_FILE] === true;
}
