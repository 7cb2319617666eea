/**
 * Hash aggregation over a columnar {@link GroupTable}, the engine of groupBy and distinct. It
 * spills: when the table's estimated bytes pass the budget (or
 * the governor reaches its spill level), every group goes, as chunks of key values and exported
 * partial states, to one of N hash partitions and the table starts empty; at the end each
 * partition is merged into a table of its own (chunks in the order they were written, so
 * first/last stay right), and a partition still too big is repartitioned with another seed.
 *
 * A table written out holding more than {@link PASS_RATIO} groups per row it took in does not
 * aggregate: later rows then skip it and go to the partitions as one-row groups (row-groups.ts),
 * in pieces of {@link PASS_ROWS}. Arrow batches skip it so too when the aggregates do not depend
 * on row order (aggregates.ts `orderFree`): their rows are spilled as they are, by the partition
 * of their group (arrow-row-partitions.ts), and folded into the partition's table after the
 * chunks written before they began to skip and before those written after (a groupBy whose groups
 * are as many as its rows built every group twice, in the table and in the merge). So a distinct,
 * which keeps the first row of each group, meets its rows in input order in the merge too, and
 * skips the table as groupBy does; once a batch of it cannot skip (its key columns unreadable),
 * none does again, so that no later row is merged before an earlier one.
 */
import type { RecordBatch } from 'apache-arrow';
import type { Row } from '../core/batch.ts';
import { AbortError } from '../core/errors.ts';
import { GroupTable, type GroupChunk, type TablePlan } from './group-table.ts';
import { InputTypes, emptyGroups } from './input-types.ts';
import { orderFree } from './aggregates.ts';
import { groupPartitions, keyColumnsOf } from './arrow-key-codes.ts';
import { RowViewer, isViewable } from '../core/row-view.ts';
import type { ArrowRowPartitions } from './arrow-row-partitions.ts';
import { GroupIndex } from './group-index.ts';
import { RowGroups } from './row-groups.ts';
import { flushDue, MAX_DEPTH, MIN_REPARTITION } from './flush-policy.ts';
// the spill layer loads with the first partition: most runs fit their budget and never spill
import type { HashPartitions } from './hash-partitions.ts';
import { watchLevels } from '../memory/level-watch.ts';
import { SerialQueue } from '../core/serial-queue.ts';
import type { HashAggregatorOptions } from './operator-options.ts';

/** Groups per spilled chunk record. */
const PIECE = 2048;
/** Groups per row taken in above which a table written out did not aggregate (see the module comment). */
const PASS_RATIO = 0.5;
/** One-row groups gathered before they are written to the partitions. */
const PASS_ROWS = 32_768;
/** Rows the first table takes before it may be judged early not to aggregate (see {@link ColumnarAggregator.#probeSaysPass}). */
const PROBE_ROWS = 100_000;
/** Groups per row taken in above which that first table is judged not to aggregate. */
const PROBE_RATIO = 0.8;

/** What {@link ColumnarAggregator} writes to partitions: a group table, or rows as one-row groups. */
type Flushable = Pick<GroupTable, 'size' | 'bytes' | 'partitions' | 'chunk'>;

/** Columnar hash aggregation with spilling: feed rows with {@link ColumnarAggregator.addEach}, then iterate {@link ColumnarAggregator.finish}. */
export class ColumnarAggregator {
  readonly #plan: TablePlan;
  readonly #options: HashAggregatorOptions;
  readonly #fanout: number;
  #table: GroupTable;
  #partitions: HashPartitions | undefined;
  readonly #open = new Set<{ dispose(): Promise<void> }>();
  readonly #queue = new SerialQueue();
  #failure: unknown;
  #disposed = false;
  #input = true;
  /** Rows folded into the table since it was last empty. */
  #rowsIn = 0;
  /** Groups of the tables written out to the partitions (the final one included). */
  #groupsFlushed = 0;
  /** One-row groups waiting for the partitions, once the table is skipped (see the module comment). */
  #passing: RowGroups | undefined;
  /** An Arrow batch came: row batches no longer skip the table (their rows would pass Arrow rows). */
  #arrow = false;
  /** Arrow rows that skip the table, by partition (see the module comment); set once they start to. */
  #arrowPassing: ArrowRowPartitions | undefined;
  /** True once a table written out did not aggregate and Arrow rows may skip the next ones. */
  #passArrow = false;
  /** A plan that keeps rows stopped skipping for good (see the module comment). */
  #passStopped = false;
  /**
   * Per partition, the records written before Arrow rows began to skip the table: the merge folds
   * the skipped rows in after them, and the later records after the rows (input order).
   */
  #recordsBeforePass: number[] | undefined;
  readonly #unwatch: () => void;

  constructor(plan: TablePlan, options: HashAggregatorOptions) {
    // every table of this aggregation (before and after it spills) notes and keeps the input's types
    this.#plan = { ...plan, inputTypes: new InputTypes() };
    this.#options = options;
    this.#fanout = options.fanout ?? 16;
    this.#table = new GroupTable(this.#plan);
    this.#unwatch = watchLevels(options.governor, (level) => {
      if (level === 'ok') return;
      // the sources may be paused: no batch will come to trigger the spill, so do it now
      this.#queue
        .run(() => (this.#input ? this.#flushIfNeeded() : undefined))
        .catch((error: unknown) => {
          this.#failure ??= error;
        });
    });
  }

  /** Rows that skipped the table as one-row groups (see the module comment). */
  passedRows = 0;

  /** The output of no groups, for an input with the columns of `input`; undefined when a column's type is not known. */
  emptyOutput(input: RecordBatch): RecordBatch | undefined {
    return emptyGroups(input, this.#plan);
  }

  /** Estimated bytes the table holds now. */
  get bytes(): number {
    return this.#table.bytes;
  }

  /** Folds `rows` in; spills the table when it passes the budget. */
  add(rows: readonly Row[]): Promise<void> {
    this.#plan.inputTypes?.noteRows();
    return this.addEach(rows.length, (i) => rows[i]!);
  }

  /** Folds `n` rows in, read through `rowAt` (possibly a reused view); kept rows come from `keepAt` when given. */
  addEach(n: number, rowAt: (i: number) => Row, keepAt?: (i: number) => Row): Promise<void> {
    return this.#serial(async () => {
      await this.#flushIfNeeded(n);
      if (this.#passing) return this.#pass(this.#passing, n, rowAt, keepAt);
      this.#table.add(n, rowAt, keepAt);
      this.#rowsIn += n;
      await this.#flushIfNeeded();
    });
  }

  /** Folds an Arrow batch in: keys read from its columns, aggregates through `rowAt`. */
  addArrow(batch: RecordBatch, rowAt: (i: number) => Row, keepAt?: (i: number) => Row): Promise<void> {
    const types = this.#plan.inputTypes;
    types?.noteArrow(batch);
    types?.checkKeyScales(this.#plan.keyNames, this.#options.scratch.stage);
    return this.#serial(async () => {
      this.#arrow = true;
      await this.#flushIfNeeded(batch.numRows);
      if (this.#passArrow && (await this.#passArrowRows(batch))) return;
      if (this.#passing) {
        // rows that skipped the table go out first, so that first/last see them before this batch
        await this.#flush(this.#passing, this.#partitions!, 0);
        this.#passing = undefined;
      }
      if (!this.#table.addArrow(batch, rowAt, keepAt)) this.#table.add(batch.numRows, rowAt, keepAt);
      this.#rowsIn += batch.numRows;
      await this.#flushIfNeeded();
    });
  }

  /** Runs `work` in the queue (serial-queue.ts), after the flushes the governor asked for; fails with an earlier failure. */
  #serial(work: () => Promise<void>): Promise<void> {
    return this.#queue.run(() => {
      if (this.#failure !== undefined) throw this.#failure;
      return work();
    });
  }

  /** Writes the table out when it must (its budget, the governor, the probe), or before `incoming` rows could grow it past its budget. */
  async #flushIfNeeded(incoming = 0): Promise<void> {
    if (!this.#mustFlush(this.#table) && !this.#probeSaysPass() && !this.#growsPastBudget(incoming)) return;
    this.#partitions ??= await this.#newPartitions();
    const parts = this.#partitions;
    const aggregating = this.#table.size <= PASS_RATIO * this.#rowsIn;
    if (!this.#arrow && !aggregating) this.#passing ??= new RowGroups(this.#plan);
    const passArrow = this.#arrow && !aggregating && !this.#passStopped && orderFree(this.#plan.aggregates);
    const flushed = this.#table.size;
    await this.#flush(this.#table, parts, 0);
    if (passArrow && !this.#passArrow) {
      this.#passArrow = true;
      this.#recordsBeforePass = Array.from({ length: parts.fanout }, (_, p) => parts.records(p));
    }
    this.#groupsFlushed += flushed;
    // the next table will likely grow as large: its index is made so at once (growing rehashes)
    this.#table = new GroupTable(this.#plan, this.#expected(flushed));
    this.#rowsIn = 0;
    // paused, the sources wait for the table's memory to leave RSS: have it collected now
    await this.#options.governor?.released?.();
  }

  /**
   * True when the first table, fed Arrow rows that may skip it, has shown it does not aggregate:
   * past {@link PROBE_ROWS} rows it holds more than {@link PROBE_RATIO} groups per row, and a
   * quarter of its budget, so that the input is already large for it (a distinct: and the input
   * still to come would take it past its budget). It is then written out
   * before its budget is full, and the rows after it skip the tables (see the module comment):
   * building every group in a table that only fills up to be written out cost a 5M-row groupBy by
   * symbol and time 1-2 s of its 11-13 s. DataFusion's partial aggregation stops so, on a probe of
   * its first 100k rows (`skip_partial_aggregation_probe_rows_threshold`, ratio 0.8).
   */
  #probeSaysPass(): boolean {
    const table = this.#table;
    return (
      this.#arrow &&
      this.#partitions === undefined &&
      this.#rowsIn >= PROBE_ROWS &&
      table.size > PROBE_RATIO * this.#rowsIn &&
      table.bytes >= this.#options.budget / 4 &&
      orderFree(this.#plan.aggregates) &&
      (!this.#plan.keepRows || this.#outgrowsBudget())
    );
  }

  /**
   * True when the table, grown with the input still to come at the rate it grew so far, would pass
   * its budget. A distinct's table holds no states, so one that will fit is cheaper than any
   * spill: on the bench's 1M rows, 1.2 s in memory against 2.0 s written out at the probe. Unknown
   * (a stream, a join's right side): false.
   */
  #outgrowsBudget(): boolean {
    const read = this.#options.inputRead?.();
    return read !== undefined && read > 0 && this.#table.bytes / read > this.#options.budget;
  }

  /**
   * Spills the rows of `batch` by the partition of their group, unaggregated (see the module
   * comment); false when its keys or rows cannot be read from its columns (the table takes it).
   */
  async #passArrowRows(batch: RecordBatch): Promise<boolean> {
    const columns = keyColumnsOf(batch, this.#plan.keyNames);
    if (!columns || !isViewable(batch)) {
      // kept rows: a row that skipped after this one would be merged before it
      if (this.#plan.keepRows) {
        this.#passArrow = false;
        this.#passStopped = true;
      }
      return false;
    }
    if (!this.#arrowPassing) {
      const { ArrowRowPartitions } = await import('./arrow-row-partitions.ts');
      this.#arrowPassing = await ArrowRowPartitions.open(this.#options.scratch, this.#fanout);
      this.#open.add(this.#arrowPassing);
    }
    const parts = this.#arrowPassing;
    await parts.add(batch, groupPartitions(columns, batch.numRows, 0, parts.fanout));
    this.passedRows += batch.numRows;
    this.#checkAbort();
    return true;
  }

  /** Adds rows as one-row groups, written to the partitions every {@link PASS_ROWS}. */
  async #pass(groups: RowGroups, n: number, rowAt: (i: number) => Row, keepAt?: (i: number) => Row): Promise<void> {
    groups.append(n, rowAt, keepAt);
    this.passedRows += n;
    if (groups.size < PASS_ROWS) return;
    this.#passing = new RowGroups(this.#plan);
    await this.#flush(groups, this.#partitions!, 0);
  }

  /**
   * Groups to size a new table's index for, `groups` at most, capped so that the index takes at
   * most an eighth of the budget: a table flushed at the spill level holds a quarter of it.
   */
  #expected(groups: number): number {
    const per = GroupIndex.bytesPerGroup(this.#plan.keys.length);
    return Math.min(groups, Math.floor(this.#options.budget / 8 / per));
  }

  /**
   * True when `n` more rows could grow the table past its budget: it is written out before them,
   * not grown and then written out. A 5M-row DISTINCT's first table doubled its index from 2M to
   * 4M groups (a rehash of 2M groups, and 100 MB held against a 64 MB budget) just before it was
   * written out.
   */
  #growsPastBudget(n: number): boolean {
    const table = this.#table;
    return n > 0 && table.size > 1 && table.bytes + table.growthBytes(n) > this.#options.budget;
  }

  /** Over budget, or the governor's level says so (flush-policy.ts). */
  #mustFlush(table: GroupTable, merging = false): boolean {
    return flushDue(table.size, table.bytes, this.#options.budget, this.#options.governor, merging);
  }

  async #newPartitions(): Promise<HashPartitions> {
    if (this.#disposed) throw new AbortError('The aggregation was disposed');
    const parts = await (await import('./hash-partitions.ts')).openPartitions(
      this.#options.scratch,
      this.#fanout,
      this.#options.budget,
    );
    this.#open.add(parts);
    return parts;
  }

  #checkAbort(): void {
    if (this.#disposed) throw new AbortError('The aggregation was disposed');
    const signal = this.#options.signal;
    if (signal?.aborted) throw new AbortError('The aggregation was aborted', { cause: signal.reason });
  }

  /** Writes every group of `table` to `parts` by the hash of its key under `seed`. */
  async #flush(table: Flushable, parts: HashPartitions, seed: number): Promise<void> {
    this.#checkAbort();
    const each = table.size === 0 ? 0 : Math.ceil(table.bytes / table.size);
    const which = table.partitions(seed, parts.fanout);
    const lists: number[][] = Array.from({ length: parts.fanout }, () => []);
    for (let g = 0; g < which.length; g++) lists[which[g]!]!.push(g);
    for (let p = 0; p < lists.length; p++) {
      const ids = lists[p]!;
      for (let at = 0; at < ids.length; at += PIECE) {
        const piece = ids.slice(at, at + PIECE);
        const pending = parts.add(p, table.chunk(piece), each * piece.length);
        if (pending) {
          await pending;
          this.#checkAbort();
        }
      }
      lists[p] = [];
    }
    // `spills` counts tables written out by budget or level, not pieces of rows that skipped one
    if (table instanceof GroupTable) {
      this.#options.counters.flushes++;
      this.#options.counters.tableBytesAtSpill = Math.max(this.#options.counters.tableBytesAtSpill, table.bytes);
      // the run's memory stats count it, as they count a sort's runs and a spill sink's batches
      this.#options.governor?.noteSpill?.(table.bytes);
    }
  }

  /** Yields the output, in batches (Arrow, or rows when a column has no plain type: GroupTable.outputBatch), once the input has ended. */
  async *finish(): AsyncGenerator<Row[] | RecordBatch> {
    await this.#queue.idle();
    this.#input = false;
    if (this.#failure !== undefined) throw this.#failure;
    const parts = this.#partitions;
    if (!parts) {
      yield* this.#output(this.#table);
      return;
    }
    // the one-row groups came after the table was last written out, the table's groups after them
    if (this.#passing) await this.#flush(this.#passing, parts, 0);
    this.#passing = undefined;
    this.#groupsFlushed += this.#table.size;
    await this.#flush(this.#table, parts, 0);
    this.#table = new GroupTable(this.#plan);
    await parts.finish();
    await this.#arrowPassing?.finish();
    this.#options.counters.depth = Math.max(this.#options.counters.depth, 1);
    yield* this.#mergeAll(parts, 1, this.#arrowPassing);
  }

  /** Merges every partition of `parts` (and of `rows`, the Arrow rows that skipped the table, at depth 1). */
  async *#mergeAll(
    parts: HashPartitions,
    depth: number,
    rows?: ArrowRowPartitions,
  ): AsyncGenerator<Row[] | RecordBatch> {
    for (let p = 0; p < parts.fanout; p++) {
      if (parts.records(p) === 0 && (rows?.rows(p) ?? 0) === 0) continue;
      yield* this.#mergePartition(parts, p, depth, rows);
    }
    for (const set of [parts, rows]) {
      await set?.dispose();
      if (set) this.#open.delete(set);
    }
  }

  /** Merges partition `p` into a table and outputs it; repartitions it (seed = depth) when still too big. */
  async *#mergePartition(
    parts: HashPartitions,
    p: number,
    depth: number,
    rows?: ArrowRowPartitions,
  ): AsyncGenerator<Row[] | RecordBatch> {
    // at most its share of the groups written out and the rows that skipped a table
    const share = Math.ceil((this.#groupsFlushed + this.passedRows) / parts.fanout ** depth);
    let table = new GroupTable(this.#plan, this.#expected(share));
    let sub: HashPartitions | undefined;
    // over budget: the groups so far go to sub-partitions by seed `depth`, and the table starts again
    const spillIfFull = async (): Promise<void> => {
      if (depth < MAX_DEPTH && table.size >= MIN_REPARTITION * this.#fanout && this.#mustFlush(table, true)) {
        sub ??= await this.#newPartitions();
        await this.#flush(table, sub, depth);
        table = new GroupTable(this.#plan);
      }
    };
    // the rows that skipped the table, after the chunks written before they began to (input order)
    let pending = rows;
    const foldRows = async (from: ArrowRowPartitions): Promise<void> => {
      pending = undefined;
      let viewer: RowViewer | undefined;
      for await (const batch of from.read(p)) {
        this.#checkAbort();
        if (viewer?.fits(batch)) viewer.bind(batch);
        else viewer = new RowViewer(batch);
        const v = viewer;
        // a kept row (distinct's first) is a copy: the view moves on
        const keep = this.#plan.keepRows ? (i: number) => v.materialize(i) : undefined;
        if (!table.addArrow(batch, (i) => v.at(i), keep)) table.add(batch.numRows, (i) => v.at(i), keep);
        await spillIfFull();
      }
      await from.remove(p);
    };
    const before = this.#recordsBeforePass?.[p] ?? Infinity;
    let seen = 0;
    for await (const records of parts.read(p)) {
      this.#checkAbort();
      for (const record of records) {
        if (pending && seen === before) await foldRows(pending);
        seen++;
        table.mergeChunk(record as GroupChunk);
      }
      await spillIfFull();
    }
    await parts.remove(p);
    if (pending) await foldRows(pending);
    if (!sub) {
      yield* this.#output(table);
      return;
    }
    await this.#flush(table, sub, depth);
    await sub.finish();
    this.#options.counters.depth = Math.max(this.#options.counters.depth, depth + 1);
    yield* this.#mergeAll(sub, depth + 1);
  }

  *#output(table: GroupTable): Generator<Row[] | RecordBatch> {
    const size = this.#options.outputRows ?? 8192;
    for (let from = 0; from < table.size; from += size) {
      const to = Math.min(table.size, from + size);
      const out = table.outputBatch(from, to);
      this.#options.counters.groups += to - from;
      yield out;
    }
  }

  /**
   * Drops the table and deletes open partitions, once the work in the queue has settled: a flush
   * in flight would otherwise write into partitions being deleted, or open new ones after.
   */
  async dispose(): Promise<void> {
    this.#disposed = true;
    this.#unwatch();
    this.#input = false;
    await this.#queue.idle();
    this.#table = new GroupTable(this.#plan);
    this.#passing = undefined;
    for (const parts of this.#open) await parts.dispose().catch(() => {});
    this.#open.clear();
  }
}
