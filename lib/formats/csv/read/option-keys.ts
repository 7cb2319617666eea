/**
 * The option keys fromCsv accepts: its own and csv-parse's that pass through (both spellings), so
 * a misspelled key is refused with the closest known one.
 */

/** fromCsv's own option keys. */
const OWN_KEYS = [
  'columns',
  'expectColumns',
  'cast',
  'types',
  'sniff',
  'sampleBytes',
  'skipLines',
  'skipBlankLines',
  'batchSize',
  'gzip',
  'zstd',
  'onError',
  'encoding',
  'invalidUtf8',
  'name',
  'parser',
  'output',
  // a dataset of files (lib/dataset): handled before these options reach a single file's reader
  'fileColumn',
  'hive',
  'hiveTypes',
  'where',
];
/** csv-parse's options that pass through (both spellings). */
const PARSE_KEYS = [
  'bom',
  'comment',
  'comment_no_infix',
  'commentNoInfix',
  'delimiter',
  'escape',
  'from',
  'from_line',
  'fromLine',
  'group_columns_by_name',
  'groupColumnsByName',
  'ignore_last_delimiters',
  'ignoreLastDelimiters',
  'ltrim',
  'max_record_size',
  'maxRecordSize',
  'quote',
  'record_delimiter',
  'recordDelimiter',
  'relax_column_count',
  'relaxColumnCount',
  'relax_column_count_less',
  'relaxColumnCountLess',
  'relax_column_count_more',
  'relaxColumnCountMore',
  'relax_quotes',
  'relaxQuotes',
  'rtrim',
  'skip_empty_lines',
  'skipEmptyLines',
  'skip_records_with_empty_values',
  'skipRecordsWithEmptyValues',
  'to',
  'to_line',
  'toLine',
  'trim',
];
/** Every key fromCsv accepts. */
export const FROM_CSV_KEYS: ReadonlySet<string> = new Set([...OWN_KEYS, ...PARSE_KEYS]);
