/**
 * When fromCsv parses on threads, and how much: files from {@link PARALLEL_CSV.minBytes} up, cut
 * into chunks of about {@link PARALLEL_CSV.chunkBytes}, parsed by {@link PARALLEL_CSV.threads}
 * threads. One mutable object, so a test or a benchmark can lower the bar for small files.
 */
import { availableParallelism } from 'node:os';
/** The settings in force (see {@link ParallelCsvSettings}). */
export const PARALLEL_CSV = {
    minBytes: 16 * 1024 * 1024,
    chunkBytes: 4 * 1024 * 1024,
    // the main thread stays free for the stages after the source (and Parquet's encoder thread)
    threads: Math.min(2, Math.max(0, availableParallelism() - 1)),
};
