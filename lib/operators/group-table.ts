/**
 * The in-memory table of the columnar hash aggregation (groupBy, distinct by keys): a key
 * dictionary per key column gives each value a dense code, the group of a row is its code (one
 * key column) or the id of its code tuple in a {@link GroupIndex}, and aggregate states live in
 * one {@link AggColumn} per aggregate, indexed by group id. Rows are folded in batch by batch,
 * column by column. For distinct, the table also keeps the first row of each group.
 *
 * Spilled partitions hold chunks of groups in a columnar shape ({@link GroupChunk}: key values,
 * exported states and kept rows, one array per column), which {@link GroupTable.mergeChunk}
 * folds back into a table.
 */
import { Field, Schema, Struct, Type, makeData, type Data, type RecordBatch } from 'apache-arrow';
import { buildColumn } from '../formats/arrow/convert.ts';
import { makeRecordBatchFast } from '../formats/arrow/record-batch.ts';
import { simpleType, textColumn } from './output-columns.ts';
import { inferredColumn, type InputTypes } from './input-types.ts';
import { typedGroups } from './group-output-types.ts';
import { estimateValueBytes, type Row } from '../core/batch.ts';
import { nanosOf } from '../formats/values.ts';
import { arrowInput, columnCodes, keyColumnsOf, type KeyColumn } from './arrow-key-codes.ts';
import { aggregateSpec, type Aggregate, type MemoryMeter } from './aggregates.ts';
import { aggColumn, rowsInput, type AggColumn, type BatchInput } from './agg-columns.ts';
import { GroupIndex } from './group-index.ts';
import { KeyDictionary, combineHashes } from './key-dictionary.ts';
import { copyBytes } from './string-codes.ts';
import type { KeyGetter } from './key-encoding.ts';

/** Groups of one spill partition, column by column. */
export interface GroupChunk {
  /**
   * The distinct key values of the chunk that are not text held as bytes, every key column's after
   * the one before (a column of few values, a symbol or a side, spills each once, and merging
   * codes each once per chunk), padded with nulls to {@link MIN_VALUES}.
   */
  keyValues: unknown[];
  /** The UTF-8 bytes of the chunk's distinct text keys, one after another. */
  keyText: Uint8Array;
  /**
   * The byte length of each text key of {@link GroupChunk.keyText} (one starts where the one
   * before ends): a byte each when all are shorter than 256 bytes.
   */
  keyTextLengths: Uint8Array | Uint32Array;
  /**
   * Per key column, each group's value: `k >= 0` is `keyValues[k]`, `k < 0` the text key `~k`
   * (16-bit when every index of the chunk fits).
   */
  keyCodes: (Int16Array | Int32Array)[];
  /** Exported aggregate states, packed by each aggregate's column (agg-columns.ts `exportStates`). */
  states: unknown[];
  /**
   * The kept first row of each group (distinct; undefined for a group whose first row is just its
   * key values), or undefined when no group of the chunk keeps one.
   */
  rows: (Row | undefined)[] | undefined;
}

/**
 * A chunk's key values are padded to this many: the spill codec writes an array this long as a
 * list (record-codec.ts), so that every chunk of a piece has one shape.
 */
export const MIN_VALUES = 16;

/** What a new group keeps of input row `j` (distinct): the row, or undefined when it is its key values. */
type Keep = (j: number) => Row | undefined;

/** Arrow types whose values read back in one form for one code (no -0, no bigint/number): not checked. */
const ONE_FORM = new Set<Type>([Type.Utf8, Type.LargeUtf8, Type.Bool]);

/** True when a key value in hand has the form of the one a dictionary keeps for its code. */
function sameForm(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  return a instanceof Date && b instanceof Date && a.getTime() === b.getTime() && nanosOf(a) === nanosOf(b);
}

/** True when `row`'s own columns are `names`, in that order. */
function hasColumns(row: Row, names: readonly string[]): boolean {
  const own = Object.keys(row);
  if (own.length !== names.length) return false;
  for (let c = 0; c < own.length; c++) if (own[c] !== names[c]) return false;
  return true;
}

/** What a group table computes: its key columns, aggregates, and whether it keeps first rows. */
export interface TablePlan {
  /** Key column names (output columns). */
  keyNames: readonly string[];
  /** Key getters, one per key column. */
  keys: readonly KeyGetter[];
  /** Output column names of the aggregates. */
  names: readonly string[];
  aggregates: readonly Aggregate[];
  /** True for distinct: the table keeps the first row of each group and outputs it. */
  keepRows: boolean;
  /** The input's column types, which the output's keys and kept rows keep (input-types.ts). */
  inputTypes?: InputTypes;
}

/** A hash table of groups with typed aggregate states (see the module comment). */
export class GroupTable {
  readonly #plan: TablePlan;
  readonly #dicts: KeyDictionary[];
  readonly #index: GroupIndex | undefined;
  readonly #columns: AggColumn[];
  /** Distinct: the kept first row of each group, undefined where that row is its key values (made on the first row kept). */
  #rows: (Row | undefined)[] | undefined;
  #capacity = 0;
  #rowCodes: Int32Array[];
  #gids = new Int32Array(0);
  /** Scratch of {@link GroupTable.chunk}: per key column, a dictionary code's index in the chunk. */
  #local: Int32Array[];
  /** Scratch of {@link GroupTable.mergeChunk}: a chunk value's code here (text keys after the values). */
  #translate = new Int32Array(0);
  /** Scratch of {@link GroupTable.chunk}: the chunk's text keys, and the bytes they fill. */
  #textScratch = new Uint8Array(4096);
  /** A chunk's key codes, row-major (GroupIndex.gather). */
  #gathered = new Int32Array(0);
  #textAt = 0;
  /** Scratch of {@link GroupTable.mergeChunk}: where each text key of a chunk starts (and, after it, ends). */
  #textStarts = new Int32Array(1);
  /** Groups the table is expected to reach (0: unknown). */
  readonly #groups: number;
  /** Rows (or chunk groups) taken in so far. */
  #taken = 0;
  /** Groups held. */
  size = 0;
  /** Estimated bytes of states that grow (countDistinct sets, collect lists) and kept rows. */
  readonly meter: MemoryMeter = { bytes: 0 };

  /**
   * @param groups groups the table is expected to reach: a multi-column key's index is made that
   * large at once, rather than grown by doubling (each growth rehashes every group), and so is a
   * key column's dictionary that holds a value per two rows or more (see {@link GroupTable.#scratch})
   */
  constructor(plan: TablePlan, groups?: number) {
    this.#plan = plan;
    this.#groups = groups ?? 0;
    const width = plan.keys.length;
    this.#dicts = plan.keys.map(() => new KeyDictionary());
    this.#index = width > 1 ? new GroupIndex(width, groups) : undefined;
    this.#columns = plan.aggregates.map((agg) => aggColumn(agg, plan.inputTypes));
    this.#rowCodes = plan.keys.map(() => new Int32Array(0));
    this.#local = plan.keys.map(() => new Int32Array(0));
  }

  /** Estimated bytes held. */
  get bytes(): number {
    let bytes = this.meter.bytes + (this.#index?.bytes ?? 0) + 64;
    for (const d of this.#dicts) bytes += d.bytes;
    return bytes + this.#slotBytes() * this.#capacity;
  }

  /** Bytes a group's slot takes in the aggregate columns (and the kept-row array). */
  #slotBytes(): number {
    let slot = this.#rows ? 8 : 0;
    for (const c of this.#columns) slot += c.slotBytes;
    return slot;
  }

  /**
   * Bytes the table would add should `more` new groups come now: its group index, key
   * dictionaries and aggregate slots double when their capacity is passed (0 when they fit).
   */
  growthBytes(more: number): number {
    let bytes = this.#index?.growthBytes(more) ?? 0;
    for (const d of this.#dicts) bytes += d.growthBytes(more);
    if (this.size + more > this.#capacity) bytes += this.#slotBytes() * Math.max(1024, this.#capacity);
    return bytes;
  }

  #reserve(size: number): void {
    if (size <= this.#capacity) return;
    this.#capacity = Math.max(1024, this.#capacity * 2, size);
    for (const c of this.#columns) c.reserve(this.#capacity);
  }

  /**
   * Makes the scratch arrays hold `n` rows, before each batch or chunk. A key column whose
   * dictionary holds a value per two rows taken so far or more (a time, an id) is told the groups
   * the table expects, and grows to them at once (hash-mix.ts `nextCapacity`); a column of fewer
   * values (a quantity beside a symbol) is not, so it does not take memory for values it never sees.
   */
  #scratch(n: number): void {
    if (this.#groups > 0) for (const dict of this.#dicts) dict.expect(dict.size * 2 > this.#taken ? this.#groups : 0);
    this.#taken += n;
    if (this.#gids.length >= n) return;
    this.#gids = new Int32Array(n);
    this.#rowCodes = this.#rowCodes.map(() => new Int32Array(n));
  }

  /** Writes the codes of `n` key tuples (`valueAt(c, j)`) to the scratch code arrays. */
  #codes(n: number, valueAt: (c: number, j: number) => unknown): void {
    this.#scratch(n);
    for (let c = 0; c < this.#dicts.length; c++) {
      const dict = this.#dicts[c]!;
      const codes = this.#rowCodes[c]!;
      for (let j = 0; j < n; j++) codes[j] = dict.code(valueAt(c, j));
    }
  }

  /** The group id of each of the `n` code tuples in the scratch arrays; makes new groups (keeping `keep(j)`). */
  #groupIds(n: number, keep?: Keep): Int32Array {
    const gids = this.#gids;
    const index = this.#index;
    const codes0 = this.#rowCodes[0]!;
    const keepRows = this.#plan.keepRows;
    for (let j = 0; j < n; j++) {
      const g = index ? index.find(this.#rowCodes, j) : codes0[j]!;
      gids[j] = g;
      if (g === this.size) {
        this.size++;
        this.#reserve(this.size);
        if (keepRows) {
          // made on the first row kept: keys-only distinct keeps none
          const row = keep?.(j);
          if (row !== undefined) {
            (this.#rows ??= [])[g] = row;
            this.meter.bytes += 32 + estimateValueBytes(row, 0);
          }
        }
      }
    }
    return gids;
  }

  /**
   * Distinct keeps the first row of a group. A row whose columns are the key columns, in order,
   * is its key values: it is not kept (the output builds it from the dictionaries, as groupBy's
   * rows are built), which spares a copy per group and the spill of rows, unless a value differs
   * in form from the one its dictionary keeps (-0 for 0, a number for a bigint; see `sameForm`).
   */
  #isKey(j: number, row: Row, checked: readonly number[]): boolean {
    const names = this.#plan.keyNames;
    for (const c of checked) {
      const kept = this.#dicts[c]!.value(this.#rowCodes[c]![j]!);
      if (!sameForm((row as Record<string, unknown>)[names[c]!], kept)) return false;
    }
    return true;
  }

  /** What new groups keep of rows of an Arrow batch with key `columns` (see {@link GroupTable.#isKey}). */
  #arrowKeep(batch: RecordBatch, columns: readonly KeyColumn[], rowAt: (i: number) => Row, keepAt: Keep): Keep {
    const names = this.#plan.keyNames;
    const fields = batch.schema.fields;
    if (fields.length !== names.length || fields.some((f, c) => f.name !== names[c])) return keepAt;
    const checked: number[] = [];
    columns.forEach((col, c) => ONE_FORM.has(col.data.typeId) || checked.push(c));
    return (j) => (this.#isKey(j, rowAt(j), checked) ? undefined : keepAt(j));
  }

  /** What new groups keep of plain rows (`rowAt` gives the rows themselves; see {@link GroupTable.#isKey}). */
  #rowKeep(rowAt: (i: number) => Row): Keep {
    const names = this.#plan.keyNames;
    const all = names.map((_, c) => c);
    return (j) => {
      const row = rowAt(j);
      return hasColumns(row, names) && this.#isKey(j, row, all) ? undefined : row;
    };
  }

  /** Folds rows `0..n-1` in (read through `rowAt`; a kept row from `keepAt`, or the row itself). */
  add(n: number, rowAt: (i: number) => Row, keepAt?: (i: number) => Row): void {
    const keys = this.#plan.keys;
    this.#codes(n, (c, i) => keys[c]!(rowAt(i)));
    this.#fold(n, rowsInput(rowAt), this.#plan.keepRows ? (keepAt ?? this.#rowKeep(rowAt)) : undefined);
  }

  /**
   * Folds the rows of an Arrow batch in, keys read from its columns (`rowAt` views its rows for
   * the aggregates); false when its key columns cannot be read directly (use {@link GroupTable.add}).
   */
  addArrow(batch: RecordBatch, rowAt: (i: number) => Row, keepAt?: (i: number) => Row): boolean {
    const columns = keyColumnsOf(batch, this.#plan.keyNames);
    if (!columns) return false;
    const n = batch.numRows;
    this.#scratch(n);
    for (let c = 0; c < columns.length; c++) {
      columnCodes(columns[c]!, n, this.#dicts[c]!, this.#rowCodes[c]!);
    }
    const keep = this.#plan.keepRows ? this.#arrowKeep(batch, columns, rowAt, keepAt ?? rowAt) : undefined;
    this.#fold(n, arrowInput(batch, rowAt), keep);
    return true;
  }

  #fold(n: number, input: BatchInput, keep: Keep | undefined): void {
    const gids = this.#groupIds(n, keep);
    for (const column of this.#columns) column.addBatch(gids, n, input, this.meter);
  }

  /** Folds a spilled chunk in (its groups' states come after those already held). */
  mergeChunk(chunk: GroupChunk): void {
    const n = chunk.keyCodes[0]?.length ?? chunk.rows?.length ?? 0;
    const { keyValues: values, keyText: text, keyTextLengths: lengths } = chunk;
    const rows = chunk.rows;
    this.#scratch(n);
    // each chunk value is coded once, when a group first reads it (a value belongs to one column)
    const slots = values.length + lengths.length;
    if (this.#translate.length < slots) this.#translate = new Int32Array(2 * slots);
    const translate = this.#translate.fill(-1, 0, slots);
    if (this.#textStarts.length <= lengths.length) this.#textStarts = new Int32Array(2 * lengths.length + 1);
    const starts = this.#textStarts;
    for (let t = 0; t < lengths.length; t++) starts[t + 1] = starts[t]! + lengths[t]!;
    const texts = values.length;
    for (let c = 0; c < this.#dicts.length; c++) {
      const dict = this.#dicts[c]!;
      const local = chunk.keyCodes[c]!;
      const out = this.#rowCodes[c]!;
      for (let j = 0; j < n; j++) {
        const k = local[j]!;
        const slot = k >= 0 ? k : texts + ~k;
        let code = translate[slot]!;
        if (code < 0) {
          code = k >= 0 ? dict.code(values[k]) : dict.codeUtf8(text, starts[~k]!, starts[~k + 1]!);
          translate[slot] = code;
        }
        out[j] = code;
      }
    }
    const gids = this.#groupIds(n, rows ? (j) => rows[j] : undefined);
    for (let a = 0; a < this.#columns.length; a++) this.#columns[a]!.mergeStates(gids, n, chunk.states[a], this.meter);
  }

  /** The code of group `g` in key column `c`. */
  #code(g: number, c: number): number {
    return this.#index ? this.#index.code(g, c) : g;
  }

  /** The partition (0..fanout-1) of every group, by the hash of its key values under `seed`. */
  partitions(seed: number, fanout: number): Uint16Array {
    const hashes = this.#dicts.map((d) => d.hashes(seed));
    const out = new Uint16Array(this.size);
    for (let g = 0; g < this.size; g++) {
      let h = hashes[0]![this.#code(g, 0)]!;
      for (let c = 1; c < hashes.length; c++) h = combineHashes(h, hashes[c]![this.#code(g, c)]!);
      out[g] = (h >>> 0) % fanout;
    }
    return out;
  }

  /** The groups `ids` as a chunk (their key values, exported states, kept rows). */
  chunk(ids: readonly number[]): GroupChunk {
    const keyValues: unknown[] = [];
    const lengths: number[] = [];
    this.#textAt = 0;
    // 16-bit indexes when every value and text key of the chunk can have one
    const wide = this.#dicts.length * ids.length >= 0x8000;
    let codes: Int32Array | undefined;
    if (this.#index) {
      const need = ids.length * this.#index.width;
      if (this.#gathered.length < need) this.#gathered = new Int32Array(need);
      codes = this.#gathered;
      this.#index.gather(ids, codes);
    }
    const keyCodes = this.#dicts.map((_, c) => this.#chunkColumn(c, ids, codes, keyValues, lengths, wide));
    const textAt = this.#textAt;
    while (keyValues.length < MIN_VALUES) keyValues.push(null);
    const keyText = this.#textScratch.slice(0, textAt);
    let longest = 0;
    for (const length of lengths) longest = Math.max(longest, length);
    const keyTextLengths = longest < 256 ? Uint8Array.from(lengths) : Uint32Array.from(lengths);
    const states = this.#columns.map((column) => column.exportStates(ids));
    let rows: (Row | undefined)[] | undefined;
    const kept = this.#rows;
    if (kept && ids.some((g) => kept[g] !== undefined)) rows = ids.map((g) => kept[g]);
    return { keyValues, keyText, keyTextLengths, keyCodes, states, rows };
  }

  /**
   * Key column `c` of the chunk of groups `ids`: each group's index into `keyValues` (values met
   * first here are added) or, for text held as bytes, `~t` for text key `t` (its bytes are added
   * to the text scratch at {@link GroupTable.#textAt}, its length to `lengths`). A multi-column
   * key's codes come from `codes` (GroupIndex.gather), a single column's code is its group id.
   */
  #chunkColumn(
    c: number,
    ids: readonly number[],
    codes: Int32Array | undefined,
    keyValues: unknown[],
    lengths: number[],
    wide: boolean,
  ): Int16Array | Int32Array {
    const d = this.#dicts[c]!;
    const width = this.#dicts.length;
    // the chunk's code of each dictionary code it holds, plus one when >= 0 (0: not yet); reset below
    if (this.#local[c]!.length < d.size) this.#local[c] = new Int32Array(d.size);
    const local = this.#local[c]!;
    const entries = d.textEntries;
    const arena = d.strings.arena;
    const starts = d.strings.starts;
    const out = wide ? new Int32Array(ids.length) : new Int16Array(ids.length);
    let textAt = this.#textAt;
    for (let j = 0; j < ids.length; j++) {
      const code = codes ? codes[j * width + c]! : ids[j]!;
      let at = local[code]!;
      if (at === 0) {
        const entry = code < entries.length ? entries[code]! - 1 : -1;
        if (entry >= 0) {
          const from = starts[entry]!;
          const to = starts[entry + 1]!;
          if (textAt + (to - from) > this.#textScratch.length) this.#growText(textAt, to - from);
          copyBytes(arena, from, to, this.#textScratch, textAt);
          textAt += to - from;
          at = ~lengths.length;
          lengths.push(to - from);
        } else {
          keyValues.push(d.value(code));
          at = keyValues.length;
        }
        local[code] = at;
      }
      out[j] = at > 0 ? at - 1 : at;
    }
    for (let j = 0; j < ids.length; j++) local[codes ? codes[j * width + c]! : ids[j]!] = 0;
    this.#textAt = textAt;
    return out;
  }

  /** Grows the chunk text scratch to hold `more` bytes after its first `at`. */
  #growText(at: number, more: number): void {
    const next = new Uint8Array(Math.max(2 * this.#textScratch.length, at + more));
    next.set(this.#textScratch.subarray(0, at));
    this.#textScratch = next;
  }

  /** Output rows of groups `from..to-1`: key columns then aggregates, or the kept row. */
  /**
   * Groups `from..to-1` as one Arrow batch (key columns, then aggregates, as {@link GroupTable.output}
   * names them), or as rows when they must be: a group keeps a row, a name repeats or is an array
   * index (rows would order or merge it otherwise), or a column has no type of output-columns.ts
   * (its values are not all numbers, strings or booleans, or all null; see simpleType). Text keys are copied from
   * the dictionary's bytes: no string is made for them. Each aggregate is finished once either way.
   */
  outputBatch(from: number, to: number): RecordBatch | Row[] {
    const kept = this.#rows;
    if (kept) for (let g = from; g < to; g++) if (kept[g] !== undefined) return this.#keptBatch(from, to);
    const { keyNames, names } = this.#plan;
    const all = [...keyNames, ...names];
    if (new Set(all).size !== all.length || all.some((name) => /^(?:0|[1-9]\d*)$/.test(name)))
      return this.output(from, to);
    const n = to - from;
    const finished = names.map((_, a) => {
      const column = this.#columns[a]!;
      const values = new Array<unknown>(n);
      for (let g = from; g < to; g++) values[g - from] = column.finish(g);
      return values;
    });
    const children: Data[] = [];
    const fields: Field[] = [];
    const codes = new Int32Array(n);
    const types = this.#plan.inputTypes;
    for (let c = 0; c < keyNames.length; c++) {
      const dict = this.#dicts[c]!;
      for (let g = from; g < to; g++) codes[g - from] = this.#code(g, c);
      const retyped = types?.retyped(keyNames[c]!) === true;
      let data = retyped ? undefined : textColumn(dict, codes);
      if (data === undefined) {
        const values = Array.from(codes, (code) => dict.value(code));
        // a key the input typed (a decimal's exact text, a BIGINT, text whose values are all null here) gets that type back
        data = types?.column(keyNames[c]!, values);
        if (data === undefined) {
          const type = simpleType(values);
          data = type ? buildColumn(new Field(keyNames[c]!, type, true), values) : inferredColumn(keyNames[c]!, values);
          if (data === undefined) return this.#outputRows(from, to, finished);
        }
      }
      fields.push(new Field(keyNames[c]!, data.type, true));
      children.push(data);
    }
    for (let a = 0; a < names.length; a++) {
      // a min, max, first or last of a column the input typed (a decimal, a BIGINT, a DATE) has that column's type
      const spec = aggregateSpec(this.#plan.aggregates[a]!);
      const keeps = spec?.kind === 'min' || spec?.kind === 'max' || spec?.kind === 'first' || spec?.kind === 'last';
      const source = keeps ? spec.column! : undefined;
      const typed =
        source !== undefined && types?.retyped(source) ? types.column(source, finished[a]!, names[a]) : undefined;
      if (typed) {
        fields.push(new Field(names[a]!, typed.type, true));
        children.push(typed);
        continue;
      }
      const type = simpleType(finished[a]!);
      const data = type
        ? buildColumn(new Field(names[a]!, type, true), finished[a]!)
        : inferredColumn(names[a]!, finished[a]!);
      if (data === undefined) return this.#typedRows(from, to, finished);
      fields.push(new Field(names[a]!, data.type, true));
      children.push(data);
    }
    const schema = new Schema(fields);
    return makeRecordBatchFast(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
  }

  /**
   * Groups `from..to-1` whose aggregate `finished` has no type of its values alone: one batch
   * whose keys keep their input types (group-output-types.ts), else rows.
   */
  #typedRows(from: number, to: number, finished: readonly unknown[][]): RecordBatch | Row[] {
    const rows = this.#outputRows(from, to, finished);
    const types = this.#plan.inputTypes;
    return (types && typedGroups(rows, this.#plan, finished, types)) ?? rows;
  }

  /** Kept rows of groups `from..to-1`, as one batch of the input's column types when it had them, else rows. */
  #keptBatch(from: number, to: number): RecordBatch | Row[] {
    const rows = this.output(from, to);
    return this.#plan.inputTypes?.batch(rows) ?? rows;
  }

  /** Groups `from..to-1` as rows: a kept row, or the key values and finished aggregates. */
  output(from: number, to: number): Row[] {
    return this.#outputRows(from, to, undefined);
  }

  /** {@link GroupTable.output}, with each aggregate's values when already finished (`finished[a][g - from]`). */
  #outputRows(from: number, to: number, finished: readonly unknown[][] | undefined): Row[] {
    const out: Row[] = [];
    const { keyNames, names } = this.#plan;
    const columns = this.#columns;
    for (let g = from; g < to; g++) {
      const kept = this.#rows?.[g];
      if (kept !== undefined) {
        out.push(kept);
        continue;
      }
      const row: Record<string, unknown> = {};
      for (let c = 0; c < keyNames.length; c++) row[keyNames[c]!] = this.#dicts[c]!.value(this.#code(g, c));
      for (let a = 0; a < names.length; a++) row[names[a]!] = finished ? finished[a]![g - from] : columns[a]!.finish(g);
      out.push(row);
    }
    return out;
  }
}
