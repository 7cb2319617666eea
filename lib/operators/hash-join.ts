/**
 * The hash join behind `join()`: the right input is built into a hash table of key -> rows (held
 * by column and found through a trie of Maps over the key values, join-table.ts, so no key string
 * is built per row), and left batches probe it as they arrive. When the build passes its budget, both sides
 * are partitioned by key hash to spill files (grace hash join): the right side during the build,
 * the left side as it arrives; at the end each partition pair is joined on its own, and a right
 * partition still too big is repartitioned (both sides) with another hash seed, recursively.
 * Nulls never match (SQL): a left row with a null key is unmatched at once; a right row with a
 * null key is only ever output unmatched (right and full joins).
 */
import { estimateRowsBytes, type Row } from '../core/batch.ts';
import { AbortError } from '../core/errors.ts';
import type { GovernorGate } from '../core/stage.ts';
import { columnGetter, hasNullKey, hashKey, keyEncoder, type KeyGetter } from './key-encoding.ts';
import { JoinTable } from './join-table.ts';
import { MAX_DEPTH, MIN_REPARTITION, openPartitions, type HashPartitions } from './hash-partitions.ts';
import type { OperatorScratch } from './operator-scratch.ts';
import type { OperatorCounters } from './operator-options.ts';
import type { JoinOutput } from './join-output.ts';

/** The six join kinds. */
export type JoinHow = 'inner' | 'left' | 'right' | 'full' | 'semi' | 'anti';

/** Rows of one key on the build side, and whether any left row matched them. */
interface Entry {
  rows: Row[];
  matched: boolean;
  /** The rows' output pairs (JoinOutput.project), made once the key matches a second time. */
  pairs?: unknown[][];
}

/** A record in a partition: the encoded key (null for a null key) and the row. */
type JoinRecord = [key: string | null, row: Row];

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
}

/** Receives output rows. */
export type JoinSink = (rows: Row[]) => Promise<void>;

const ENTRY_BYTES = 120;

/** A hash join: {@link HashJoin.build} the right side, {@link HashJoin.probe} left batches, then {@link HashJoin.finish}. */
export class HashJoin {
  readonly #o: HashJoinOptions;
  readonly #leftKey: (row: Row) => string;
  readonly #rightKey: (row: Row) => string;
  readonly #leftGet: readonly KeyGetter[];
  readonly #fanout: number;
  readonly #table: JoinTable;
  #bytes = 0;
  #rightParts: HashPartitions | undefined;
  #leftParts: HashPartitions | undefined;
  readonly #open = new Set<HashPartitions>();
  /** Rows read from the right side. */
  rightRows = 0;

  constructor(options: HashJoinOptions) {
    this.#o = options;
    this.#leftKey = keyEncoder(options.leftKeys);
    this.#rightKey = keyEncoder(options.rightKeys);
    this.#leftGet = options.leftKeys.map(columnGetter);
    this.#table = new JoinTable(options.rightKeys, options.how === 'right' || options.how === 'full');
    this.#fanout = options.fanout ?? 16;
  }

  /** True once the join partitions to disk. */
  get partitioned(): boolean {
    return this.#rightParts !== undefined;
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
    const parts = await openPartitions(this.#o.scratch, this.#fanout, this.#o.budget);
    this.#open.add(parts);
    return parts;
  }

  /** Adds a chunk of right rows to the build side (in memory, or partitions once over budget). */
  async build(rows: readonly Row[]): Promise<void> {
    this.#checkAbort();
    this.rightRows += rows.length;
    if (rows.length > 0) this.#o.output.noteRight(rows[0]!);
    if (this.#rightParts) {
      const each = rows.length === 0 ? 0 : estimateRowsBytes(rows) / rows.length + ENTRY_BYTES;
      await this.#partitionRight(rows, this.#rightParts, 0, each);
      return;
    }
    const table = this.#table;
    table.add(rows);
    this.#bytes = table.bytes;
    if (this.#overBudget()) {
      // grace: everything built so far goes to partitions, and so does the rest
      this.#rightParts = await this.#newPartitions();
      this.#leftParts = await this.#newPartitions();
      for (let start = 0; start < table.length; start += 4096) {
        const held: Row[] = [];
        for (let i = start; i < Math.min(table.length, start + 4096); i++) held.push(table.row(i));
        await this.#partitionRight(held, this.#rightParts, 0, estimateRowsBytes(held) / held.length + ENTRY_BYTES);
      }
      table.clear();
      this.#bytes = 0;
      this.#o.counters.flushes++;
    }
  }

  async #partitionRight(rows: readonly Row[], parts: HashPartitions, seed: number, each: number): Promise<void> {
    const keys = this.#o.rightKeys;
    const keepNull = this.#o.how === 'right' || this.#o.how === 'full';
    for (const row of rows) {
      let record: JoinRecord;
      let p: number;
      if (hasNullKey(row, keys)) {
        if (!keepNull) continue;
        record = [null, row];
        p = 0;
      } else {
        const key = this.#rightKey(row);
        record = [key, row];
        p = hashKey(key, seed) % parts.fanout;
      }
      const pending = parts.add(p, record, each);
      if (pending) await pending;
    }
  }

  /** Probes a batch of left rows: joined rows go to `sink` (partitioned: stored for {@link HashJoin.finish}). */
  async probe(rows: readonly Row[], sink: JoinSink): Promise<void> {
    this.#checkAbort();
    if (rows.length === 0) return;
    const output = this.#o.output;
    output.noteLeft(rows[0]!);
    const how = this.#o.how;
    const keys = this.#o.leftKeys;
    const leftParts = this.#leftParts;
    if (leftParts) {
      // the build is over: its last buffered records go to disk before the left side fills partitions
      await this.#rightParts?.finish();
      const each = estimateRowsBytes(rows) / rows.length;
      const unmatched: Row[] = [];
      for (const row of rows) {
        if (hasNullKey(row, keys)) {
          if (how === 'left' || how === 'full') unmatched.push(output.leftOnly(row));
          else if (how === 'anti') unmatched.push(row);
          continue;
        }
        const key = this.#leftKey(row);
        const pending = leftParts.add(hashKey(key, 0) % leftParts.fanout, [key, row] satisfies JoinRecord, each);
        if (pending) await pending;
      }
      await sink(unmatched);
      return;
    }
    await sink(this.#probeTable(rows));
  }

  /** Joins left rows against the in-memory table. */
  #probeTable(rows: readonly Row[]): Row[] {
    const out: Row[] = [];
    const table = this.#table;
    const get = this.#leftGet;
    const keys = this.#o.leftKeys;
    const how = this.#o.how;
    const output = this.#o.output;
    const outer = how === 'left' || how === 'full';
    for (const row of rows) {
      const head = hasNullKey(row, keys) ? -1 : table.find(row, get);
      if (how === 'semi') {
        if (head !== -1) out.push(row);
      } else if (how === 'anti') {
        if (head === -1) out.push(row);
      } else if (head !== -1) table.joinChain(out, row, head, output);
      else if (outer) out.push(output.leftOnly(row));
    }
    return out;
  }

  /** Joins the records' rows against a partition's `table`. */
  #probeRecords(table: Map<string, Entry>, records: readonly JoinRecord[]): Row[] {
    const out: Row[] = [];
    for (const [key, row] of records) this.#joinRow(out, row, key === null ? undefined : table.get(key));
    return out;
  }

  /** Appends what left row `row` gives, `entry` being its match (undefined: none), to `out`. */
  #joinRow(out: Row[], row: Row, entry: Entry | undefined): void {
    switch (this.#o.how) {
      case 'semi':
        if (entry) out.push(row);
        return;
      case 'anti':
        if (!entry) out.push(row);
        return;
      default:
        if (entry) {
          const output = this.#o.output;
          if (!entry.matched) {
            // first match: project on the fly (in a large x large join most keys match once)
            entry.matched = true;
            for (const right of entry.rows) out.push(output.both(row, right));
          } else if (entry.pairs || this.#bytes < this.#o.budget / 2) {
            // the pairs are held with the table: metered, and only while it is well under budget
            if (!entry.pairs) {
              entry.pairs = entry.rows.map((right) => output.project(right));
              this.#bytes += 32 * entry.rows.length * (1 + entry.pairs[0]!.length);
            }
            for (const p of entry.pairs) out.push(output.withPairs(row, p));
          } else for (const right of entry.rows) out.push(output.both(row, right));
        } else if (this.#o.how === 'left' || this.#o.how === 'full') out.push(this.#o.output.leftOnly(row));
    }
  }

  /** Emits what is left: unmatched right rows (right/full joins), and the partitioned join. */
  async finish(sink: JoinSink): Promise<void> {
    const rightParts = this.#rightParts;
    const leftParts = this.#leftParts;
    if (!rightParts || !leftParts) {
      await this.#emitTableUnmatched(sink);
      this.#table.clear();
      return;
    }
    await rightParts.finish();
    await leftParts.finish();
    this.#o.counters.depth = Math.max(this.#o.counters.depth, 1);
    await this.#joinAll(rightParts, leftParts, 1, sink);
  }

  /** Unmatched rows of the in-memory table (right and full joins). */
  async #emitTableUnmatched(sink: JoinSink): Promise<void> {
    const how = this.#o.how;
    if (how !== 'right' && how !== 'full') return;
    const output = this.#o.output;
    const table = this.#table;
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

  async #emitUnmatched(entries: Iterable<Entry>, nullRight: readonly Row[], sink: JoinSink): Promise<void> {
    const how = this.#o.how;
    if (how !== 'right' && how !== 'full') return;
    const output = this.#o.output;
    let out: Row[] = [];
    for (const entry of entries) {
      if (entry.matched) continue;
      for (const row of entry.rows) out.push(output.rightOnly(row));
      if (out.length >= 8192) {
        await sink(out);
        out = [];
      }
    }
    for (const row of nullRight) out.push(output.rightOnly(row));
    await sink(out);
  }

  async #joinAll(rightParts: HashPartitions, leftParts: HashPartitions, depth: number, sink: JoinSink): Promise<void> {
    for (let p = 0; p < rightParts.fanout; p++) {
      if (rightParts.records(p) === 0 && leftParts.records(p) === 0) continue;
      await this.#joinPartition(rightParts, leftParts, p, depth, sink);
    }
    for (const parts of [rightParts, leftParts]) {
      await parts.dispose();
      this.#open.delete(parts);
    }
  }

  /** Joins partition `p`: builds its right rows (repartitioning with seed `depth` when too big), probes its left rows. */
  async #joinPartition(
    rightParts: HashPartitions,
    leftParts: HashPartitions,
    p: number,
    depth: number,
    sink: JoinSink,
  ): Promise<void> {
    const table = new Map<string, Entry>();
    const nullRight: Row[] = [];
    this.#bytes = 0;
    let subRight: HashPartitions | undefined;
    for await (const chunk of rightParts.read(p)) {
      this.#checkAbort();
      const records = chunk as JoinRecord[];
      if (subRight) {
        await this.#repartition(records, subRight, depth);
        continue;
      }
      const each =
        records.length === 0 ? 0 : estimateRowsBytes(records.map((r) => r[1])) / records.length + ENTRY_BYTES;
      for (const [key, row] of records) {
        if (key === null) nullRight.push(row);
        else {
          const entry = table.get(key);
          if (entry) entry.rows.push(row);
          else table.set(key, { rows: [row], matched: false });
        }
        this.#bytes += each;
      }
      if (depth < MAX_DEPTH && table.size >= MIN_REPARTITION * this.#fanout && this.#overBudget(true)) {
        subRight = await this.#newPartitions();
        for (const [key, entry] of table) {
          const q = hashKey(key, depth) % subRight.fanout;
          for (const row of entry.rows) await subRight.add(q, [key, row] satisfies JoinRecord, each);
        }
        for (const row of nullRight) await subRight.add(0, [null, row] satisfies JoinRecord, each);
        table.clear();
        nullRight.length = 0;
        this.#bytes = 0;
      }
    }
    await rightParts.remove(p);
    if (subRight) {
      const subLeft = await this.#newPartitions();
      for await (const chunk of leftParts.read(p)) {
        this.#checkAbort();
        await this.#repartition(chunk as JoinRecord[], subLeft, depth);
      }
      await leftParts.remove(p);
      await subRight.finish();
      await subLeft.finish();
      this.#o.counters.depth = Math.max(this.#o.counters.depth, depth + 1);
      await this.#joinAll(subRight, subLeft, depth + 1, sink);
      return;
    }
    for await (const chunk of leftParts.read(p)) {
      this.#checkAbort();
      await sink(this.#probeRecords(table, chunk as JoinRecord[]));
    }
    await leftParts.remove(p);
    await this.#emitUnmatched(table.values(), nullRight, sink);
  }

  async #repartition(records: readonly JoinRecord[], parts: HashPartitions, seed: number): Promise<void> {
    for (const record of records) {
      const q = record[0] === null ? 0 : hashKey(record[0], seed) % parts.fanout;
      const pending = parts.add(q, record, 64);
      if (pending) await pending;
    }
  }

  /** Drops the table and deletes open partitions. */
  async dispose(): Promise<void> {
    this.#table.clear();
    for (const parts of this.#open) await parts.dispose().catch(() => {});
    this.#open.clear();
  }
}
