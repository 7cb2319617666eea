/**
 * The hash join behind `join()`: the right input is built into a hash table of key -> rows (held
 * by column and found through a trie of Maps over the key values, join-table.ts, so no key string
 * is built per row), and left batches probe it as they arrive. When the build passes its budget, both sides
 * are partitioned by key hash to spill files (grace hash join): the right side during the build,
 * the left side as it arrives; at the end each partition pair is joined on its own, its right
 * rows built into a {@link JoinTable} as the in-memory join does (compiled output rows, values by
 * column), and a right partition still too big is repartitioned (both sides) with another hash
 * seed, recursively. Partitions hold the rows alone (their key is read again from them).
 * Hybrid: when the build ends partitioned, an inner, left, semi or anti join reads back the first
 * right partitions that fit its budget into the table, and left rows of those partitions are
 * joined as they arrive, not written out and read again (the other partitions as before); as
 * DuckDB's and DataFusion's hash joins keep what fits of a spilled build in memory.
 * Nulls never match (SQL): a left row with a null key is unmatched at once; a right row with a
 * null key is only ever output unmatched (right and full joins).
 */
import { Batch, estimateRowsBytes, type Row } from '../core/batch.ts';
import { AbortError } from '../core/errors.ts';
import type { GovernorGate } from '../core/stage.ts';
import { columnGetter, hasNullKey, type KeyGetter } from './key-encoding.ts';
import { keyPartitions, partKey } from './join-partition-key.ts';
import {
  arrowPartitions,
  rightChunksOf,
  rowBytesInPartition,
  rowsOf,
  writeByKey,
  writeTable,
  type JoinPartitions,
  type PartitionSide,
} from './join-partition-rows.ts';
import { JoinTable } from './join-table.ts';
import type { InputTypes } from './input-types.ts';
import { ROWS_METADATA_KEY } from '../formats/arrow/metadata-keys.ts';
import { MAX_DEPTH, MIN_REPARTITION } from './flush-policy.ts';
// the spill layer loads with the first partition: most runs fit their budget and never spill
import type { HashPartitions } from './hash-partitions.ts';
import type { ArrowRowPartitions } from './arrow-row-partitions.ts';
import type { OperatorScratch } from './operator-scratch.ts';
import type { OperatorCounters } from './operator-options.ts';
import type { JoinArrowSink, JoinHow, JoinOutput } from './join-output.ts';
import type { ArrowProbe } from './join-arrow.ts';
import type { RecordBatch } from 'apache-arrow';

export type { JoinHow } from './join-output.ts';

/** Options of {@link HashJoin}. */
export interface HashJoinOptions {
  how: JoinHow;
  leftKeys: readonly string[];
  rightKeys: readonly string[];
  budget: number;
  fanout?: number;
  scratch: OperatorScratch;
  output: JoinOutput;
  governor?: GovernorGate | undefined;
  signal?: AbortSignal;
  counters: OperatorCounters;
  /** The right input's column types, noted by the caller as it reads the right side; the columnar probe's output keeps them (a DECIMAL stays one). */
  rightTypes?: InputTypes | undefined;
}

/** Receives output rows. */
export type JoinSink = (rows: Row[]) => Promise<void>;

/** A hash join: {@link HashJoin.build} the right side, {@link HashJoin.probe} left batches, then {@link HashJoin.finish}. */
export class HashJoin {
  readonly #o: HashJoinOptions;
  readonly #left: PartitionSide;
  readonly #right: PartitionSide;
  readonly #leftGet: readonly KeyGetter[];
  readonly #fanout: number;
  readonly #table: JoinTable;
  #bytes = 0;
  /** Estimated bytes a right row takes in a table, measured when the build first spilled. */
  #rowBytes = 0;
  /** Partitions whose right rows are in {@link HashJoin.#table} after a partitioned build (see the module comment). */
  #resident: Uint8Array | undefined;
  /** The build was settled (see {@link HashJoin.#settleBuild}). */
  #settled = false;
  #rightParts: HashPartitions | undefined;
  #leftParts: HashPartitions | undefined;
  /** A partitioned join's left Arrow batches, by partition, as they came (see {@link HashJoin.probeArrow}). */
  #leftBatches: ArrowRowPartitions | undefined;
  /** A partitioned join's right Arrow batches, by partition, as they came (see {@link HashJoin.build}). */
  #rightBatches: ArrowRowPartitions | undefined;
  readonly #open = new Set<{ dispose(): Promise<void> }>();
  /** The columnar probe of the built table, once asked for (null: this join takes the rows path). */
  #arrowProbe: ArrowProbe | null | undefined;
  /** Rows read from the right side. */
  rightRows = 0;

  constructor(options: HashJoinOptions) {
    this.#o = options;
    const keepNull = options.how === 'right' || options.how === 'full';
    // left rows with a null key never reach the partitions (they are output, or dropped, at once)
    this.#left = { keys: options.leftKeys, partKey: partKey(options.leftKeys), keepNull: false };
    this.#right = { keys: options.rightKeys, partKey: partKey(options.rightKeys), keepNull };
    this.#leftGet = options.leftKeys.map(columnGetter);
    this.#table = new JoinTable(options.rightKeys, options.how === 'right' || options.how === 'full');
    this.#fanout = options.fanout ?? 16;
  }

  /** True once the join partitions to disk. */
  get partitioned(): boolean {
    return this.#rightParts !== undefined;
  }

  /** Partitions a partitioned join holds in memory and joins as the left rows come (see the module comment). */
  get partitionsInMemory(): number {
    return this.#resident?.reduce((a, b) => a + b, 0) ?? 0;
  }

  #checkAbort(): void {
    const signal = this.#o.signal;
    if (signal?.aborted) throw new AbortError('The join was aborted', { cause: signal.reason });
  }

  /** Over budget, or the governor at its spill level and the table at a quarter of it, or at pause/critical. */
  #overBudget(merging = false): boolean {
    const budget = this.#o.budget;
    if (this.#bytes > budget) return true;
    if (merging) return false;
    const level = this.#o.governor?.level;
    if (level === 'spill') return this.#bytes >= budget / 4;
    return (level === 'pause' || level === 'critical') && this.#bytes >= Math.min(1 << 20, budget / 16);
  }

  async #newPartitions(): Promise<HashPartitions> {
    const parts = await (await import('./hash-partitions.ts')).openPartitions(
      this.#o.scratch,
      this.#fanout,
      this.#o.budget,
    );
    this.#open.add(parts);
    return parts;
  }

  /**
   * Adds a chunk of right rows to the build side (in memory, or partitions once over budget): rows,
   * or an Arrow batch whose values the table reads by column (no row objects). Partitioned, an
   * Arrow batch on one key column is split by column into Arrow partitions (as the left side's, see
   * {@link HashJoin.probeArrow}); any other chunk goes to the row partitions.
   */
  async build(chunk: readonly Row[] | RecordBatch): Promise<void> {
    this.#checkAbort();
    let arrow = Array.isArray(chunk) ? undefined : (chunk as RecordBatch);
    let rows = arrow ? undefined : (chunk as readonly Row[]);
    // rows of `'array'` shape: as rows (the table reads objects by name)
    if (arrow?.schema.metadata.get(ROWS_METADATA_KEY) === 'array') {
      rows = rowsOf(arrow);
      arrow = undefined;
    }
    const n = arrow ? arrow.numRows : rows!.length;
    this.rightRows += n;
    if (n === 0) return;
    if (arrow) this.#o.output.noteRightNames(arrow.schema.fields.map((f) => f.name));
    else this.#o.output.noteRight(rows![0]!);
    const table = this.#table;
    // a chunk whose keys would grow the table's arrays past the budget: the table goes to
    // partitions first (as groupBy's tables do), and the chunk after it
    if (!this.#rightParts && table.length > 0 && table.bytes + table.growthBytes(n) > this.#o.budget)
      await this.#partitionBuild();
    if (this.#rightParts) {
      if (arrow && (await this.#partitionRightArrow(arrow))) return;
      rows ??= rowsOf(arrow!);
      await writeByKey(rows, this.#right, this.#rightParts, 0, rowBytesInPartition(rows));
      return;
    }
    if (arrow) table.addArrow(arrow);
    else table.add(rows!);
    this.#bytes = table.bytes;
    if (this.#overBudget()) await this.#partitionBuild();
  }

  /** Grace: the rows built so far go to partitions, and so will the rest of the build. */
  async #partitionBuild(): Promise<void> {
    const table = this.#table;
    this.#rowBytes = table.partitionRowBytes;
    this.#rightParts = await this.#newPartitions();
    this.#leftParts = await this.#newPartitions();
    this.#o.counters.tableBytesAtSpill = Math.max(this.#o.counters.tableBytesAtSpill, table.bytes);
    await writeTable(table, this.#right, this.#rightParts, 0);
    this.#o.governor?.noteSpill?.(table.bytes);
    this.#bytes = 0;
    this.#o.counters.flushes++;
    // paused, the sources wait for the table's memory to leave RSS: have it collected now
    await this.#o.governor?.released?.();
  }

  /** Writes a right Arrow batch to the right Arrow partitions by its key column; false (nothing done) when it has no such column (see arrowPartitions). */
  async #partitionRightArrow(batch: RecordBatch): Promise<boolean> {
    const which = arrowPartitions(batch, this.#right, this.#fanout);
    if (!which) return false;
    if (!this.#rightBatches) {
      const { ArrowRowPartitions } = await import('./arrow-row-partitions.ts');
      this.#rightBatches = await ArrowRowPartitions.open(this.#o.scratch, this.#fanout);
      this.#open.add(this.#rightBatches);
    }
    await this.#rightBatches.add(batch, which);
    return true;
  }

  /**
   * Ends a partitioned build, once, before the first left row: the right partitions go to disk,
   * then an inner, left, semi or anti join reads back the first partitions whose rows fit its
   * budget, or a quarter of it with the governor at its spill level (estimated at the bytes a row
   * took when the build spilled), into the table, unless the governor is at its pause level. A
   * table that passes what the level allows while it loads (an estimate too low, or the level
   * risen) is dropped, and every partition stays on disk. `load` false (no left row came):
   * nothing is read back.
   */
  async #settleBuild(load = true): Promise<void> {
    if (this.#settled) return;
    this.#settled = true;
    const rightParts = this.#rightParts;
    if (!rightParts) return;
    await rightParts.finish();
    const rightBatches = this.#rightBatches;
    await rightBatches?.finish();
    if (!load) return;
    const how = this.#o.how;
    const level = this.#o.governor?.level;
    if (how === 'right' || how === 'full' || level === 'pause' || level === 'critical') return;
    const resident = new Uint8Array(rightParts.fanout);
    // what the level lets a table hold (see #overBudget), with a tenth to spare for the estimate:
    // at the spill level a quarter of the budget, which the table read back would otherwise pass
    // and be dropped (the bench's 5M x 2.5M join read 16.7 MB back and dropped it so)
    const room = level === 'spill' ? (this.#o.budget / 4) * 0.9 : this.#o.budget;
    let estimate = 0;
    for (let p = 0; p < rightParts.fanout; p++) {
      const bytes = (rightParts.records(p) + (rightBatches?.rows(p) ?? 0)) * this.#rowBytes;
      if (estimate + bytes > room) break;
      estimate += bytes;
      resident[p] = 1;
    }
    const table = this.#table;
    for (let p = 0; p < rightParts.fanout && resident[p] === 1; p++) {
      for await (const chunk of rightChunksOf(rightParts, rightBatches, p)) {
        this.#checkAbort();
        if (Array.isArray(chunk)) table.add(chunk);
        else table.addArrow(chunk as RecordBatch);
        this.#bytes = table.bytes;
        if (!this.#overBudget()) continue;
        table.clear();
        this.#bytes = 0;
        return;
      }
    }
    for (let p = 0; p < rightParts.fanout && resident[p] === 1; p++) {
      await rightParts.remove(p);
      await rightBatches?.remove(p);
    }
    if (resident.includes(1)) this.#resident = resident;
  }

  /**
   * Writes left rows to `parts` by key hash under `seed`; a row with a null key never matches and
   * goes to `sink` at once as its join outputs it (left and full joins: with nulls; anti: as it is).
   * Rows of a partition marked in `resident` are joined against the table now, not written.
   */
  async #partitionLeftRows(
    rows: readonly Row[],
    parts: HashPartitions,
    seed: number,
    each: number,
    sink: JoinSink,
    resident?: Uint8Array,
  ): Promise<void> {
    const how = this.#o.how;
    const keys = this.#o.leftKeys;
    const unmatched: Row[] = [];
    const keyed: Row[] = [];
    for (const row of rows) {
      if (!hasNullKey(row, keys)) keyed.push(row);
      else if (how === 'left' || how === 'full') unmatched.push(this.#o.output.leftOnly(row));
      else if (how === 'anti') unmatched.push(row);
    }
    const here = await writeByKey(keyed, this.#left, parts, seed, each, resident);
    if (here.length > 0) await sink(this.#probeTable(here, this.#table));
    await sink(unmatched);
  }

  /** Probes a batch of left rows: joined rows go to `sink` (partitioned: stored for {@link HashJoin.finish}). */
  async probe(rows: readonly Row[], sink: JoinSink): Promise<void> {
    this.#checkAbort();
    if (rows.length === 0) return;
    this.#o.output.noteLeft(rows);
    const leftParts = this.#leftParts;
    if (leftParts) {
      await this.#settleBuild();
      const each = estimateRowsBytes(rows) / rows.length;
      await this.#partitionLeftRows(rows, leftParts, 0, each, sink, this.#resident);
      return;
    }
    await sink(this.#probeTable(rows, this.#table));
  }

  /**
   * Probes a left Arrow batch on the columnar path (join-arrow.ts), handing joined Arrow batches
   * of at most `batchSize` rows to `sink`; false (nothing done) when this join or batch takes the
   * rows path instead: partitioned, a right or full join, right values Arrow cannot hold as rows
   * would be written.
   */
  async probeArrow(batch: RecordBatch, batchSize: number, sink: (out: RecordBatch) => Promise<void>): Promise<boolean> {
    this.#checkAbort();
    if (this.#leftParts) return this.#partitionArrow(batch, batchSize, sink);
    if (batch.numRows === 0) return true;
    this.#o.output.noteLeftNames(batch.schema.fields.map((f) => f.name));
    if (this.#arrowProbe === undefined) this.#arrowProbe = (await this.#probeOf(this.#table, false)) ?? null;
    return (await this.#arrowProbe?.probe(batch, batchSize, sink)) ?? false;
  }

  /**
   * Partitions a left Arrow batch by column, its rows gathered into one batch per partition (no
   * row objects), for a partitioned join the columnar probe can take: inner, left, semi or anti,
   * on one key column; false (nothing done) otherwise. A row with a null key goes to partition 0,
   * where the probe outputs it unmatched (left, anti) or drops it (inner, semi). Rows of a
   * partition held in memory are probed now, their output handed to `sink`.
   */
  async #partitionArrow(
    batch: RecordBatch,
    batchSize: number,
    sink: (out: RecordBatch) => Promise<void>,
  ): Promise<boolean> {
    const how = this.#o.how;
    const keys = this.#o.leftKeys;
    if (how === 'right' || how === 'full' || keys.length !== 1) return false;
    const names = batch.schema.fields.map((f) => f.name);
    const c = names.indexOf(keys[0]!);
    if (c === -1 || new Set(names).size !== names.length) return false;
    if (batch.numRows === 0) return true;
    this.#o.output.noteLeftNames(names);
    await this.#settleBuild();
    const resident = this.#resident;
    // the columnar probe of the partitions held; without one (right values Arrow cannot hold as
    // rows would be written) the batch takes the rows path, where those rows are probed as rows
    if (resident && this.#arrowProbe === undefined) this.#arrowProbe = (await this.#probeOf(this.#table, true)) ?? null;
    if (resident && !this.#arrowProbe) return false;
    if (!this.#leftBatches) {
      const { ArrowRowPartitions } = await import('./arrow-row-partitions.ts');
      this.#leftBatches = await ArrowRowPartitions.open(this.#o.scratch, this.#fanout);
      this.#open.add(this.#leftBatches);
    }
    const which = keyPartitions(batch, c, this.#leftBatches.fanout);
    let held = 0;
    if (resident) {
      const here: number[] = [];
      for (let i = 0; i < which.length; i++) {
        if (resident[which[i]!] !== 1) continue;
        here.push(i);
        which[i] = -1;
      }
      held = here.length;
      // the key column exists and names are unique (checked above): the probe takes the batch
      if (here.length > 0 && !(await this.#arrowProbe!.probe(batch, batchSize, sink, here)))
        throw new Error('join: the columnar probe refused a left batch it was checked for');
    }
    // a batch whose rows were all joined now is not kept for the partitions
    if (held < which.length) await this.#leftBatches.add(batch, which);
    this.#checkAbort();
    return true;
  }

  /** The columnar probe of `table` (join-arrow.ts: of one partition's when `partition`), or undefined when it takes rows. */
  async #probeOf(table: JoinTable, partition: boolean): Promise<ArrowProbe | undefined> {
    const { ArrowProbe } = await import('./join-arrow.ts');
    const { how, leftKeys, output, rightTypes } = this.#o;
    return ArrowProbe.of(table, { how, leftKeys, output, rightTypes }, partition);
  }

  /** Joins left rows against `table` (the in-memory build, or a partition's). */
  #probeTable(rows: readonly Row[], table: JoinTable): Row[] {
    return table.probe(rows, this.#o.leftKeys, this.#leftGet, this.#o.how, this.#o.output);
  }

  /** Emits what is left: unmatched right rows (right/full joins), and the partitioned join. */
  async finish(sink: JoinSink, arrow?: JoinArrowSink): Promise<void> {
    const rightParts = this.#rightParts;
    const leftParts = this.#leftParts;
    if (!rightParts || !leftParts) {
      await this.#emitTableUnmatched(this.#table, sink);
      this.#table.clear();
      return;
    }
    await this.#settleBuild(false);
    // the partitions held are joined: their table goes before the others are built
    this.#table.clear();
    await leftParts.finish();
    await this.#leftBatches?.finish();
    this.#o.counters.depth = Math.max(this.#o.counters.depth, 1);
    await this.#joinAll(
      { rightParts, leftParts, rightBatches: this.#rightBatches, leftBatches: this.#leftBatches },
      1,
      sink,
      arrow,
    );
  }

  /** Unmatched rows of `table` (right and full joins). */
  async #emitTableUnmatched(table: JoinTable, sink: JoinSink): Promise<void> {
    const how = this.#o.how;
    if (how !== 'right' && how !== 'full') return;
    const output = this.#o.output;
    let out: Row[] = [];
    for (const i of table.unmatched()) {
      out.push(output.rightOnly(table.row(i)));
      if (out.length >= 8192) {
        await sink(out);
        out = [];
      }
    }
    await sink(out);
  }

  async #joinAll(parts: JoinPartitions, depth: number, sink: JoinSink, arrow?: JoinArrowSink): Promise<void> {
    const { rightParts, leftParts, rightBatches, leftBatches } = parts;
    // only right and full joins output right rows without a left row: the others skip a partition
    // whose left side is empty (its right rows are never built into a table)
    const rightAlone = this.#o.how === 'right' || this.#o.how === 'full';
    for (let p = 0; p < rightParts.fanout; p++) {
      const right = rightParts.records(p) + (rightBatches?.rows(p) ?? 0);
      const left = leftParts.records(p) + (leftBatches?.rows(p) ?? 0);
      if (left === 0 && (right === 0 || !rightAlone)) continue;
      await this.#joinPartition(parts, p, depth, sink, arrow);
    }
    for (const each of [rightParts, leftParts, rightBatches, leftBatches]) {
      if (!each) continue;
      await each.dispose();
      this.#open.delete(each);
    }
  }

  /**
   * Partition `p`'s left Arrow batches: probed by column against `table` when `arrow` is given and
   * the table allows it (join-arrow.ts; its right columns are those of the whole right side), else
   * as rows; or, when the partition is split again, repartitioned as rows into `subLeft`.
   */
  async #leftBatchesOf(
    batches: ArrowRowPartitions,
    p: number,
    table: JoinTable,
    sink: JoinSink,
    arrow: JoinArrowSink | undefined,
    subLeft?: { parts: HashPartitions; seed: number },
  ): Promise<void> {
    const probe = arrow && !subLeft ? await this.#probeOf(table, true) : undefined;
    for await (const batch of batches.read(p)) {
      this.#checkAbort();
      if (probe && arrow && (await probe.probe(batch, arrow.batchSize, arrow.sink))) continue;
      const rows = Batch.fromArrow(batch, { source: 'join.left', index: 0, rowStart: 0 }).rows;
      if (subLeft) await this.#partitionLeftRows(rows, subLeft.parts, subLeft.seed, 64, sink);
      else await sink(this.#probeTable(rows, table));
    }
    await batches.remove(p);
  }

  /** Joins partition `p`: builds its right rows (repartitioning with seed `depth` when too big), probes its left rows. */
  async #joinPartition(
    parts: JoinPartitions,
    p: number,
    depth: number,
    sink: JoinSink,
    arrow: JoinArrowSink | undefined,
  ): Promise<void> {
    const { rightParts, leftParts, rightBatches, leftBatches } = parts;
    const how = this.#o.how;
    const table = new JoinTable(this.#o.rightKeys, how === 'right' || how === 'full');
    this.#bytes = 0;
    let subRight: HashPartitions | undefined;
    for await (const chunk of rightChunksOf(rightParts, rightBatches, p)) {
      this.#checkAbort();
      if (subRight) {
        await writeByKey(Array.isArray(chunk) ? chunk : rowsOf(chunk), this.#right, subRight, depth, 64);
        continue;
      }
      if (Array.isArray(chunk)) table.add(chunk);
      else table.addArrow(chunk);
      this.#bytes = table.bytes;
      if (depth < MAX_DEPTH && table.keys >= MIN_REPARTITION * this.#fanout && this.#overBudget(true)) {
        subRight = await this.#newPartitions();
        await writeTable(table, this.#right, subRight, depth);
        this.#bytes = 0;
      }
    }
    await rightParts.remove(p);
    await rightBatches?.remove(p);
    if (subRight) {
      const subLeft = await this.#newPartitions();
      for await (const chunk of leftParts.read(p)) {
        this.#checkAbort();
        await this.#partitionLeftRows(chunk as Row[], subLeft, depth, 64, sink);
      }
      await leftParts.remove(p);
      if (leftBatches) await this.#leftBatchesOf(leftBatches, p, table, sink, arrow, { parts: subLeft, seed: depth });
      await subRight.finish();
      await subLeft.finish();
      this.#o.counters.depth = Math.max(this.#o.counters.depth, depth + 1);
      await this.#joinAll({ rightParts: subRight, leftParts: subLeft }, depth + 1, sink, arrow);
      return;
    }
    for await (const chunk of leftParts.read(p)) {
      this.#checkAbort();
      await sink(this.#probeTable(chunk as Row[], table));
    }
    await leftParts.remove(p);
    if (leftBatches) await this.#leftBatchesOf(leftBatches, p, table, sink, arrow);
    await this.#emitTableUnmatched(table, sink);
    table.clear();
  }

  /** Drops the table and deletes open partitions. */
  async dispose(): Promise<void> {
    this.#table.clear();
    for (const parts of this.#open) await parts.dispose().catch(() => {});
    this.#open.clear();
  }
}
