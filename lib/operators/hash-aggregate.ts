/**
 * Hash aggregation that spills, the engine of groupBy and distinct. Rows fold into a table of
 * groups, a trie of Maps over the key values (key-trie.ts: no key string per row). When the table's estimated bytes pass the budget
 * (or the governor reaches its spill level), every group is written, key and partial state, to one
 * of N hash partitions on disk and the table starts empty. At the end, if anything spilled, the
 * table is flushed too and each partition is merged on its own (the partial states of one key
 * merge in the order they were written, so first/last stay right); a partition whose merged
 * table still passes the budget is repartitioned with another hash seed, recursively.
 */
import { flushDue } from './flush-policy.ts';
import type { Row } from '../core/batch.ts';
import { AbortError } from '../core/errors.ts';
import type { GovernorGate } from '../core/stage.ts';
import type { MemoryMeter } from './aggregates.ts';
import { hashKey, type KeyGetter } from './key-encoding.ts';
import { KeyTrie } from './key-trie.ts';
import { watchLevels } from '../memory/level-watch.ts';
import { openPartitions, type HashPartitions } from './hash-partitions.ts';
import type { OperatorScratch } from './operator-scratch.ts';

/** How an operator makes, grows, merges and outputs its groups. Groups must survive structured clone. */
export interface GroupPlan<G> {
  /** The key values of a row, one getter per key column (the table's levels). */
  keys: readonly KeyGetter[];
  /** The canonical key encoding of a group (what spill partitions hash and merge by). */
  groupKey(group: G): string;
  /** A new group holding `row`. */
  create(row: Row, meter: MemoryMeter): G;
  /** Folds `row` into `group` (returns the group, possibly a new object). */
  add(group: G, row: Row, meter: MemoryMeter): G;
  /** Merges `later` into `earlier` (states from earlier rows first). */
  merge(earlier: G, later: G, meter: MemoryMeter): G;
  /** The output row of a group. */
  output(group: G): Row;
  /** Estimated bytes of a new group made from `row`, without the table's entry. */
  groupBytes(row: Row): number;
}

/** Counters an aggregation reports in its stage's stats. */
export interface OperatorCounters {
  /** Deepest recursive repartitioning (0: none; 1: partitioned once). */
  depth: number;
  /** Times the in-memory table was written to partitions. */
  flushes: number;
  /** Groups output. */
  groups: number;
}

/** Options of {@link HashAggregator}. */
export interface HashAggregatorOptions {
  /** Bytes the table may hold (estimated) before it spills. */
  budget: number;
  /** Partitions per spill (default 16). */
  fanout?: number;
  /** Output rows per emitted batch (default 8192). */
  outputRows?: number;
  scratch: OperatorScratch;
  governor?: GovernorGate | undefined;
  signal?: AbortSignal;
  counters: OperatorCounters;
}

/** Recursive repartitioning stops at this depth (a skewed key cannot be split by hashing). */
export const MAX_DEPTH = 6;
/** A partition is repartitioned only when it holds at least this many groups per partition it would make. */
export const MIN_REPARTITION = 4;

type SpillRecord<G> = [key: string, group: G, bytes: number];

/** Hash aggregation with spilling; feed rows with {@link HashAggregator.add}, then iterate {@link HashAggregator.finish}. */
export class HashAggregator<G> {
  readonly #plan: GroupPlan<G>;
  readonly #options: HashAggregatorOptions;
  readonly #fanout: number;
  #table: KeyTrie<G>;
  readonly #meter: MemoryMeter = { bytes: 0 };
  #partitions: HashPartitions | undefined;
  readonly #open = new Set<HashPartitions>();
  /** The add or level-driven flush running now; the next one waits for it. */
  #busy: Promise<void> = Promise.resolve();
  #failure: unknown;
  #input = true;
  readonly #unwatch: () => void;

  constructor(plan: GroupPlan<G>, options: HashAggregatorOptions) {
    this.#plan = plan;
    this.#options = options;
    this.#fanout = options.fanout ?? 16;
    this.#table = new KeyTrie<G>(plan.keys.length);
    this.#unwatch = watchLevels(options.governor, (level) => {
      if (level === 'ok') return;
      // the sources may be paused: no batch will come to trigger the spill, so do it now
      this.#busy = this.#busy
        .then(() => (this.#input ? this.#flushIfNeeded() : undefined))
        .catch((error: unknown) => {
          this.#failure ??= error;
        });
    });
  }

  async #flushIfNeeded(): Promise<void> {
    if (!this.#mustFlush(this.#table.size)) return;
    this.#partitions ??= await this.#newPartitions();
    await this.#flush(this.#table, this.#partitions, 0);
  }

  /** Estimated bytes the table holds now. */
  get bytes(): number {
    return this.#meter.bytes;
  }

  /** Folds `rows` in; spills the table when it passes the budget. */
  add(rows: readonly Row[]): Promise<void> {
    return this.addEach(rows.length, (i) => rows[i]!);
  }

  /**
   * Folds `n` rows in, read through `rowAt` (which may return a reused flyweight view); a new
   * group is made from `keepAt(i)` when given (a copy that stays valid), else from `rowAt(i)`.
   */
  async addEach(n: number, rowAt: (i: number) => Row, keepAt?: (i: number) => Row): Promise<void> {
    await this.#busy;
    if (this.#failure !== undefined) throw this.#failure;
    const work = this.#addEach(n, rowAt, keepAt);
    this.#busy = work.catch(() => {});
    return work;
  }

  async #addEach(n: number, rowAt: (i: number) => Row, keepAt?: (i: number) => Row): Promise<void> {
    const plan = this.#plan;
    const table = this.#table;
    const keys = plan.keys;
    const meter = this.#meter;
    for (let i = 0; i < n; i++) {
      const row = rowAt(i);
      const group = table.find(row, keys);
      if (group === undefined) {
        const kept = keepAt ? keepAt(i) : row;
        const created = plan.create(kept, meter);
        meter.bytes += table.insert(created) + plan.groupBytes(kept);
      } else {
        const next = plan.add(group, row, meter);
        if (next !== group) table.replace(next);
      }
    }
    await this.#flushIfNeeded();
  }

  /** Over budget, or the governor's level says so (flush-policy.ts). */
  #mustFlush(groups: number, merging = false): boolean {
    return flushDue(groups, this.#meter.bytes, this.#options.budget, this.#options.governor, merging);
  }

  async #newPartitions(): Promise<HashPartitions> {
    const parts = await openPartitions(this.#options.scratch, this.#fanout, this.#options.budget);
    this.#open.add(parts);
    return parts;
  }

  #checkAbort(): void {
    const signal = this.#options.signal;
    if (signal?.aborted) throw new AbortError('The aggregation was aborted', { cause: signal.reason });
  }

  /** Writes every group of `table` to `parts`, by the hash of its key under `seed`; empties the table and the meter. */
  async #flush(table: KeyTrie<G> | Map<string, G>, parts: HashPartitions, seed: number): Promise<void> {
    this.#checkAbort();
    const each = table.size === 0 ? 0 : Math.ceil(this.#meter.bytes / table.size);
    const plan = this.#plan;
    // written groups leave the table as they go, so a collection during the flush can free them
    const entries: Iterable<[string, G]> =
      table instanceof Map ? drainMap(table) : mapGroups(table.groups(true), (g) => [plan.groupKey(g), g]);
    for (const [key, group] of entries) {
      const p = hashKey(key, seed) % parts.fanout;
      const record: SpillRecord<G> = [key, group, each];
      const pending = parts.add(p, record, each);
      if (pending) {
        await pending;
        this.#checkAbort();
      }
    }
    table.clear();
    this.#meter.bytes = 0;
    this.#options.counters.flushes++;
  }

  /** Yields the output rows, in batches, once the input has ended. */
  async *finish(): AsyncGenerator<Row[]> {
    await this.#busy;
    this.#input = false;
    if (this.#failure !== undefined) throw this.#failure;
    const parts = this.#partitions;
    if (!parts) {
      yield* this.#output(this.#table);
      return;
    }
    await this.#flush(this.#table, parts, 0);
    await parts.finish();
    this.#options.counters.depth = Math.max(this.#options.counters.depth, 1);
    yield* this.#mergeAll(parts, 1);
  }

  async *#mergeAll(parts: HashPartitions, depth: number): AsyncGenerator<Row[]> {
    for (let p = 0; p < parts.fanout; p++) {
      if (parts.records(p) === 0) continue;
      yield* this.#mergePartition(parts, p, depth);
    }
    await parts.dispose();
    this.#open.delete(parts);
  }

  /** Merges partition `p` of `parts` into a table and outputs it; repartitions it (seed = depth) when it is still too big. */
  async *#mergePartition(parts: HashPartitions, p: number, depth: number): AsyncGenerator<Row[]> {
    const plan = this.#plan;
    const meter = this.#meter;
    meter.bytes = 0;
    const table = new Map<string, G>();
    let sub: HashPartitions | undefined;
    for await (const chunk of parts.read(p)) {
      this.#checkAbort();
      for (const item of chunk) {
        const [key, group, bytes] = item as SpillRecord<G>;
        const existing = table.get(key);
        if (existing === undefined) {
          table.set(key, group);
          meter.bytes += bytes;
        } else {
          const merged = plan.merge(existing, group, meter);
          if (merged !== existing) table.set(key, merged);
        }
      }
      if (depth < MAX_DEPTH && table.size >= MIN_REPARTITION * this.#fanout && this.#mustFlush(table.size, true)) {
        sub ??= await this.#newPartitions();
        await this.#flush(table, sub, depth);
      }
    }
    await parts.remove(p);
    if (!sub) {
      yield* this.#output(table);
      return;
    }
    await this.#flush(table, sub, depth);
    await sub.finish();
    this.#options.counters.depth = Math.max(this.#options.counters.depth, depth + 1);
    yield* this.#mergeAll(sub, depth + 1);
  }

  *#output(table: KeyTrie<G> | Map<string, G>): Generator<Row[]> {
    const size = this.#options.outputRows ?? 8192;
    const plan = this.#plan;
    let out: Row[] = [];
    for (const group of table instanceof Map ? table.values() : table.groups()) {
      out.push(plan.output(group));
      if (out.length >= size) {
        this.#options.counters.groups += out.length;
        yield out;
        out = [];
      }
    }
    table.clear();
    this.#meter.bytes = 0;
    if (out.length > 0) {
      this.#options.counters.groups += out.length;
      yield out;
    }
  }

  /** Drops the table and deletes open partitions. */
  async dispose(): Promise<void> {
    this.#unwatch();
    this.#input = false;
    this.#table.clear();
    for (const parts of this.#open) await parts.dispose().catch(() => {});
    this.#open.clear();
  }
}

/** The entries of `map`, each deleted as it is yielded. */
function* drainMap<G>(map: Map<string, G>): Generator<[string, G]> {
  for (const entry of map) {
    map.delete(entry[0]);
    yield entry;
  }
}

function* mapGroups<G>(groups: Iterable<G>, f: (group: G) => [string, G]): Generator<[string, G]> {
  for (const group of groups) yield f(group);
}
