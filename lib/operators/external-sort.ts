/**
 * External merge sort over Arrow batches: batches are buffered up to a byte budget or until the
 * governor says spill (its level, or headroom too small for spilling the run: sort-memory.ts),
 * then sorted as one run (a radix permutation sort over key arrays, run-sort.ts; rows put in
 * order on the buffers by scattering, run-scatter.ts) and spilled as Arrow IPC runs
 * under the operator's scratch directory (spill-runs.ts, the same scratch the hash operators
 * partition into);
 * at the end the runs (the last one stays in memory when the governor leaves room) are merged
 * k-way with a heap, one small batch per run in memory, output streamed in batches. Too many runs for the budget are merged in
 * passes. Stable: rows that compare equal keep their input order (runs hold consecutive input,
 * ties between runs go to the earlier run).
 */
import type { Data, RecordBatch, Schema } from 'apache-arrow';
import { castRecordBatch, recordBatchBytes, schemasEqual, unifySchemas } from '../formats/arrow/convert.ts';
import { AbortError } from '../core/errors.ts';
import { logger, type GovernorGate } from '../core/stage.ts';
import { SortMemory, isPaused } from './sort-memory.ts';
import { collectGarbage } from '../memory/gc-pacer.ts';
import { scatterRun } from './run-scatter.ts';
import { RunSorter } from './run-sort.ts';
import { mergeRuns, spilledSource, type RunSource } from './run-merge.ts';
import { watchLevels } from '../memory/level-watch.ts';
import { SerialQueue } from '../core/serial-queue.ts';
import type { OperatorScratch } from './operator-scratch.ts';
import { openRun, type SpilledRun } from './spill-runs.ts';
import type { SortOrdering } from './sort-keys.ts';

const debug = logger('sort');

/** Options of {@link ExternalSorter}. */
export interface ExternalSortOptions {
  /** Bytes of buffered input (Arrow buffers) before a run is sorted and spilled. */
  budget: number;
  /** Rows per output batch. */
  batchSize: number;
  /** Where runs are spilled (the operator's scratch directory; the caller disposes it). */
  scratch: OperatorScratch;
  /** Aborts the sort (checked between batches). */
  signal?: AbortSignal;
  /** Spills early when its level is past `ok`. */
  governor?: GovernorGate;
}

/** What a sort did. */
export interface ExternalSortStats {
  /** Rows sorted. */
  rows: number;
  /** Rows written to disk (a row merged in two passes counts twice). */
  rowsSpilled: number;
  /** Runs spilled because the governor asked (not the budget). */
  governorSpills: number;
  /** Intermediate merge passes (when runs exceeded the fan-in). */
  mergePasses: number;
  /** Most bytes of input held at once. */
  peakBufferedBytes: number;
}

/**
 * A sorted run in memory: its source batches' columns (each column's chunks, one per source),
 * the sources' sizes, and the sorted order as source rows numbered across the sources.
 */
interface MemoryRun {
  schema: Schema;
  columns: (Data[] | undefined)[];
  sizes: number[];
  order: Uint32Array;
}

/** Sorts batches of any size within a memory budget. */
export class ExternalSorter {
  readonly stats: ExternalSortStats = {
    rows: 0,
    rowsSpilled: 0,
    governorSpills: 0,
    mergePasses: 0,
    peakBufferedBytes: 0,
  };
  readonly #ordering: SortOrdering;
  readonly #options: ExternalSortOptions;
  readonly #memory: SortMemory;
  #buffered: RecordBatch[] = [];
  #bufferedBytes = 0;
  #bufferedRows = 0;
  #schema: Schema | undefined;
  #runs: { run: SpilledRun; schema: Schema }[] = [];
  #disposed = false;
  #busy: Promise<void> = Promise.resolve();
  /** Serialises adds and governor-triggered spills (serial-queue.ts). */
  readonly #queue = new SerialQueue();
  #failure: unknown;
  #unsubscribe: (() => void) | undefined;

  constructor(ordering: SortOrdering, options: ExternalSortOptions) {
    this.#ordering = ordering;
    this.#options = options;
    this.#memory = new SortMemory(options.budget, options.batchSize, options.governor);
  }

  #checkAbort(): void {
    const signal = this.#options.signal;
    if (signal?.aborted) throw new AbortError('The sort was aborted', { cause: signal.reason });
  }

  #serial(work: () => Promise<void>): Promise<void> {
    return this.#queue.run(work);
  }

  /**
   * Listens to the governor: past `ok` the buffered run is spilled at once, without waiting for
   * the next batch (a paused source sends none: holding the run would hold the pause forever).
   */
  #subscribe(): void {
    if (this.#unsubscribe) return;
    const governor = this.#options.governor;
    this.#unsubscribe = watchLevels(governor, (level) => {
      if (level === 'ok' || this.#disposed) return;
      if (this.#bufferedBytes === 0) {
        // nothing held: the copies of runs spilled just before may be what holds the pause (the
        // sources wait anyway: a memory-reducing collection costs them nothing)
        if (level === 'pause' && this.#runs.length > 0) collectGarbage(true);
        return;
      }
      this.#serial(async () => {
        const now = governor!.level;
        if (this.#disposed || now === 'ok' || this.#bufferedBytes === 0) return;
        if (now === 'spill' && this.#bufferedBytes < this.#memory.minRun()) return;
        this.stats.governorSpills++;
        await this.spill();
        // the governor measures RSS: the run's buffers leave it only when collected, and a paused
        // source allocates nothing that would make V8 collect
        collectGarbage(isPaused(governor));
      }).catch((error: unknown) => {
        this.#failure ??= error;
      });
    });
  }

  #stopListening(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** Adds a batch; sorts and spills the buffered run when the budget or the governor says so. */
  add(batch: RecordBatch): Promise<void> {
    this.#subscribe();
    return this.#serial(() => this.#add(batch));
  }

  async #add(batch: RecordBatch): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    this.#checkAbort();
    if (batch.numRows === 0) return;
    this.#schema = this.#schema === undefined ? batch.schema : unifySchemas(this.#schema, batch.schema);
    this.#ordering.bind(this.#schema); // fails early on a missing or unsortable key column
    this.#buffered.push(batch);
    this.#bufferedBytes += recordBatchBytes(batch);
    this.#bufferedRows += batch.numRows;
    this.stats.rows += batch.numRows;
    if (this.#bufferedBytes > this.stats.peakBufferedBytes) this.stats.peakBufferedBytes = this.#bufferedBytes;
    if (this.#bufferedBytes >= this.#options.budget) await this.spill();
    else if (this.#memory.mustSpill(this.#bufferedBytes)) {
      this.stats.governorSpills++;
      await this.spill();
      // the governor measures RSS: the run's buffers (and the sorted copies just written) leave
      // it only once collected, and memory is short now
      collectGarbage(isPaused(this.#options.governor));
    }
  }

  /** Sorts the buffered batches into a run in memory and drops them from the buffer. */
  #sortBuffered(): MemoryRun {
    const schema = this.#schema!;
    const sources = this.#buffered.map((b) => (schemasEqual(b.schema, schema) ? b : castRecordBatch(b, schema)));
    this.#buffered = [];
    this.#bufferedBytes = 0;
    const n = this.#bufferedRows;
    this.#bufferedRows = 0;
    const ordering = this.#ordering;
    ordering.bind(schema);
    const keys = ordering.keySet(sources);
    // stable: equal keys keep input order
    const order = new RunSorter(ordering.keys, ordering.compare).sort(keys, n);
    const columns = schema.fields.map((_, c) => sources.map((b) => b.data.children[c]!));
    return { schema, columns, sizes: sources.map((b) => b.numRows), order };
  }

  /**
   * The sorted batches of a memory run, `rowsPerBatch` rows each, put in order by scattering
   * (run-scatter.ts, a quarter of the run at a time); the run's columns are handed over and
   * dropped once its last quarter is built.
   */
  #memoryBatches(run: MemoryRun, rowsPerBatch: number): Generator<RecordBatch> {
    const { columns } = run;
    run.columns = [];
    return scatterRun(run.schema, columns, run.sizes, run.order, rowsPerBatch);
  }

  /** Writes a run; dispose waits for a write in progress before removing the directory. */
  #writeRun(batches: Iterable<RecordBatch> | AsyncIterable<RecordBatch>, schema: Schema): Promise<void> {
    const work = this.#writeRunNow(batches, schema);
    this.#busy = work.catch(() => {});
    return work;
  }

  async #writeRunNow(batches: Iterable<RecordBatch> | AsyncIterable<RecordBatch>, schema: Schema): Promise<void> {
    if (this.#disposed) throw new AbortError('The sort was disposed');
    const writer = await openRun(this.#options.scratch);
    try {
      for await (const batch of batches) {
        this.#checkAbort();
        await writer.write(batch);
        this.stats.rowsSpilled += batch.numRows;
      }
      const run = await writer.finish();
      if (this.#disposed) {
        await run.remove();
        throw new AbortError('The sort was disposed');
      }
      this.#runs.push({ run, schema });
      this.#memory.noteRunSpilled();
      this.#options.governor?.noteSpill?.(run.bytes);
    } catch (error) {
      await writer.abort().catch(() => {});
      throw error;
    }
  }

  /** Sorts what is buffered and writes it to disk as a run (nothing when empty). */
  async spill(): Promise<void> {
    if (this.#buffered.length === 0) return;
    const rowsPerBatch = this.#memory.spillRows(this.#bufferedBytes, this.#bufferedRows);
    const bytes = this.#bufferedBytes;
    const run = this.#sortBuffered();
    debug(
      'spilling a run of %d rows (%d bytes buffered), governor %s',
      run.order.length,
      bytes,
      this.#options.governor?.level ?? 'none',
    );
    await this.#writeRun(this.#memoryBatches(run, rowsPerBatch), run.schema);
  }

  /**
   * The sorted rows, in batches of `batchSize`. Call once, after the last {@link ExternalSorter.add}.
   * Spilled runs are removed as they are merged; {@link ExternalSorter.dispose} removes the rest.
   */
  async *finish(): AsyncGenerator<RecordBatch> {
    this.#stopListening();
    await this.#queue.idle();
    if (this.#failure !== undefined) throw this.#failure;
    this.#checkAbort();
    if (this.#memory.lastRunMustSpill(this.#bufferedBytes)) {
      this.stats.governorSpills++;
      await this.spill();
      // the run's buffers leave RSS only once collected: before the output phase needs the room
      collectGarbage(true);
    }
    if (this.#runs.length === 0) {
      if (this.#buffered.length === 0) return;
      const rows = this.#memory.outputRows(this.#bufferedBytes, this.#bufferedRows);
      const run = this.#sortBuffered();
      for (const batch of this.#memoryBatches(run, rows)) {
        this.#checkAbort();
        yield batch;
      }
      return;
    }
    // too many runs for one merge: merge adjacent runs first (order kept: stable). When one merge
    // of the oldest brings the count down to the fan-in, that one only, so the least is rewritten
    // (26 runs at a fan-in of 21: 6 runs merged, not 21; a 5M-row sort wrote 833 MB where 446 MB
    // is the data); with more runs, a level: every run merged once, in groups of the fan-in.
    // Merging the oldest group pass after pass rewrote the growing first run every pass (200k
    // rows at a 100 kB budget: 113 runs at a fan-in of 4, 28 passes, 3.1M rows written).
    const fanIn = this.#memory.fanIn();
    for (;;) {
      const sources = this.#runs.length + (this.#buffered.length > 0 ? 1 : 0);
      if (sources <= fanIn) break;
      const partial = sources - fanIn + 1;
      const level = this.#runs.splice(0);
      const groups: (typeof level)[] = [];
      if (partial <= fanIn) groups.push(level.slice(0, partial), ...level.slice(partial).map((r) => [r]));
      else for (let i = 0; i < level.length; i += fanIn) groups.push(level.slice(i, i + fanIn));
      for (let g = 0; g < groups.length; g++) {
        const group = groups[g]!;
        if (group.length === 1) {
          this.#runs.push(group[0]!);
          continue;
        }
        try {
          await this.#mergeRuns(group);
        } catch (error) {
          // the runs of the groups not merged go back to #runs, where dispose removes them
          for (const rest of groups.slice(g + 1)) this.#runs.push(...rest);
          throw error;
        }
      }
    }
    const sources: RunSource[] = this.#runs.map((r) => spilledSource(r.run));
    let schema = this.#runs.map((r) => r.schema).reduce((a, b) => unifySchemas(a, b));
    if (this.#buffered.length > 0) {
      schema = unifySchemas(schema, this.#schema!);
      const rows = this.#memory.outputRows(this.#bufferedBytes, this.#bufferedRows);
      const run = this.#sortBuffered();
      const it = this.#memoryBatches(run, rows);
      sources.push(async () => it.next().value ?? undefined);
    }
    yield* this.#merge(sources, schema, false);
  }

  /** Merges `group` (adjacent runs, oldest first) into one run, appended to #runs; the group's runs are removed. */
  async #mergeRuns(group: { run: SpilledRun; schema: Schema }[]): Promise<void> {
    const schema = group.map((r) => r.schema).reduce((a, b) => unifySchemas(a, b));
    const merged = this.#merge(
      group.map((r) => spilledSource(r.run)),
      schema,
      true,
    );
    try {
      await this.#writeRun(merged, schema);
    } finally {
      // out of #runs, so dispose would not close them: a failed merge (an abort) closes them here
      await Promise.allSettled(group.map((r) => r.run.remove()));
    }
    this.stats.mergePasses++;
  }

  /** K-way merge of sorted sources; `toRun` sizes output batches for a spilled run, else for the output. */
  #merge(sources: RunSource[], schema: Schema, toRun: boolean): AsyncGenerator<RecordBatch> {
    const outSize = (first: RecordBatch): number =>
      toRun
        ? this.#memory.spillRows(recordBatchBytes(first), first.numRows)
        : this.#memory.outputRows(recordBatchBytes(first), first.numRows);
    return mergeRuns(sources, schema, this.#ordering, outSize, () => this.#checkAbort());
  }

  /** Removes every spilled run (the scratch directory is its owner's to remove). Idempotent. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#stopListening();
    this.#buffered = [];
    await this.#queue.idle();
    await this.#busy;
    const runs = this.#runs;
    this.#runs = [];
    await Promise.allSettled(runs.map((r) => r.run.remove()));
  }
}
