/**
 * Column types a source knows beyond what its rows say (a sniffed CSV): Dates that are calendar
 * days (`date`) or wall-clock times (`timestamp`) rather than instants, 64-bit integers and
 * doubles whatever a batch's values. A batch's Arrow form takes them (lib/formats/arrow/build.ts),
 * so it has DuckDB's types for the file, and every batch the same ones.
 */
export type SniffedTypes = Readonly<Record<string, 'date' | 'timestamp' | 'int64' | 'double'>>;
