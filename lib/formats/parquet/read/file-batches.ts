/**
 * The batches of an open Parquet file: row group by row group (skipping those before the start
 * row or refused by the row-group filter), every projected column read page by page
 * (`column.ts`) `batchSize` rows at a time, then made into row objects or an Arrow RecordBatch.
 * A batch never straddles a row group.
 */
import { columnsRowMaker } from '../../../core/row-literal.ts';
import type { RecordBatch } from 'apache-arrow';
import type { DecodedArray, FileMetaData, RowGroup, SchemaTree } from 'hyparquet';
import { FormatError } from '../../../core/errors.ts';
import { makeRecordBatch } from './arrow.ts';
import type { ArrowColumnPlan } from './arrow.ts';
import { openColumn } from './column.ts';
import type { ColumnCursor, DecodeSettings } from './column.ts';
import { translateError } from './translate.ts';
import type { PageFilter } from './page-filter.ts';
import { rowAfter } from './page-filter.ts';
import { openSelectedCursors, selectGroupRows, type GroupSelection } from './page-selection.ts';

/** One batch of rows from a Parquet file. */
export interface ParquetBatch {
  /** 0-based row group the rows come from. */
  readonly rowGroup: number;
  /**
   * 0-based index, in the whole file, of the first row; with a page filter (rows of skipped pages
   * left out), `rowStart + rows.length` is the row after the batch's last, where a resume starts.
   */
  readonly rowStart: number;
  /** The rows, keyed by column name. */
  readonly rows: Record<string, unknown>[];
}

/** One batch of a Parquet file as an Arrow RecordBatch (types as in `read/arrow.ts`). */
export interface ParquetArrowBatch {
  /** 0-based row group the rows come from. */
  readonly rowGroup: number;
  /** 0-based index, in the whole file, of the first row. */
  readonly rowStart: number;
  /** The rows, as Arrow columns built straight from the decoded pages. */
  readonly batch: RecordBatch;
}

/** What the batches of an open file are read with. */
export interface OpenFile {
  /** The path in messages. */
  readonly path: string;
  /** The footer as parsed (handed to the row-group filter). */
  readonly footer: FileMetaData;
  /** The footer whose schema the rows path decodes with (`types.ts` prepareSchema). */
  readonly metadata: FileMetaData;
  readonly tree: SchemaTree;
  /** Projected top-level columns, in order. */
  readonly names: readonly string[];
  readonly batchSize: number;
  readonly settings: DecodeSettings;
  /** The rows path's finisher per column that needs one. */
  readonly finishers: ReadonlyMap<string, (value: unknown, column: string) => unknown>;
  readonly filter?: (index: number, group: RowGroup, metadata: FileMetaData) => boolean;
  /** Page-level pushdown through the page index (read/page-selection.ts). */
  readonly pageFilter?: PageFilter;
  isClosed(): boolean;
}

interface ColumnsPart {
  rowGroup: number;
  rowStart: number;
  n: number;
  values: DecodedArray[];
}

/**
 * Opens every projected column of row group `g` from row `skip` of the group on, or over the
 * rows of `selection` only.
 */
function openCursors(
  f: OpenFile,
  g: number,
  skip: number,
  plans: readonly ArrowColumnPlan[] | undefined,
  selection: GroupSelection | undefined,
): ColumnCursor[] {
  const chunks = f.metadata.row_groups[g]!.columns;
  const rowCount = Number(f.metadata.row_groups[g]!.num_rows);
  try {
    const columns = f.names.map((name, c) => {
      const plan = plans?.[c];
      return { name, settings: plan ? { ...f.settings, raw: plan.raw, rawLeaves: plan.rawLeaves } : f.settings };
    });
    if (selection !== undefined) return openSelectedCursors(f.tree, chunks, g, rowCount, selection, columns);
    return columns.map(({ name, settings }) => openColumn(f.tree, chunks, name, g, rowCount, skip, settings));
  } catch (error) {
    throw translateError(error, f.path, { batch: g });
  }
}

/** The page selection of row group `g` from row `skip` on, when the file has a page filter. */
async function selection(f: OpenFile, g: number, skip: number): Promise<GroupSelection | undefined> {
  if (f.pageFilter === undefined) return undefined;
  try {
    const file = { footer: f.footer, tree: f.tree, names: f.names, file: f.settings.file, pageFilter: f.pageFilter };
    return await selectGroupRows(file, g, skip);
  } catch (error) {
    throw translateError(error, f.path, { batch: g });
  }
}

/** Decoded columns, batch by batch (`plans`: decode for Arrow). */
async function* columnBatches(
  f: OpenFile,
  fromRow: number,
  plans: readonly ArrowColumnPlan[] | undefined,
): AsyncGenerator<ColumnsPart> {
  let groupStart = 0;
  for (let g = 0; g < f.metadata.row_groups.length; g++) {
    if (f.isClosed()) throw new FormatError('Parquet reader was closed', { file: f.path });
    const rowCount = Number(f.metadata.row_groups[g]!.num_rows);
    if (
      groupStart + rowCount <= fromRow ||
      (f.filter !== undefined && !f.filter(g, f.footer.row_groups[g]!, f.footer))
    ) {
      groupStart += rowCount;
      continue;
    }
    const skip = Math.max(0, fromRow - groupStart);
    const selected = await selection(f, g, skip);
    const total = selected === undefined ? rowCount - skip : selected.rows;
    const cursors = total === 0 ? [] : openCursors(f, g, skip, plans, selected);
    for (let done = 0; done < total; done += f.batchSize) {
      const n = Math.min(total - done, f.batchSize);
      let values: DecodedArray[];
      try {
        values = await Promise.all(cursors.map((c) => c.take(n)));
      } catch (error) {
        throw translateError(error, f.path, { batch: g });
      }
      // with a page selection, rowStart + n is the row after the batch's last (where a resume starts)
      const end = selected === undefined ? skip + done + n : rowAfter(selected.ranges, done + n);
      yield { rowGroup: g, rowStart: groupStart + end - n, n, values };
    }
    groupStart += rowCount;
  }
}

/** Row objects of decoded columns, each value finished as `types.ts` says. */
function toRows(f: OpenFile, part: ColumnsPart): Record<string, unknown>[] {
  const { n, values } = part;
  const names = f.names;
  // column by column (one finisher call site per column), then one literal per row
  const columns = names.map((name, c) => finishedColumn(values[c]!, n, f.finishers.get(name), name));
  const make = columnsRowMaker(names);
  const rows: Record<string, unknown>[] = new Array(n);
  for (let r = 0; r < n; r++) rows[r] = make(columns, r) as Record<string, unknown>;
  return rows;
}

/** The `n` values of one decoded column as rows hold them: finished, a missing value as null. */
function finishedColumn(
  decoded: ArrayLike<unknown>,
  n: number,
  finish: ((v: unknown, name: string) => unknown) | undefined,
  name: string,
): ArrayLike<unknown> {
  if (finish !== undefined) {
    const out = new Array<unknown>(n);
    for (let r = 0; r < n; r++) out[r] = finish(decoded[r], name);
    return out;
  }
  if (ArrayBuffer.isView(decoded)) return decoded; // typed arrays hold no missing values
  const out = new Array<unknown>(n);
  for (let r = 0; r < n; r++) out[r] = decoded[r] ?? null;
  return out;
}

/** Batches of row objects from row `fromRow` on. */
export async function* rowBatches(f: OpenFile, fromRow: number): AsyncGenerator<ParquetBatch> {
  for await (const part of columnBatches(f, fromRow, undefined)) {
    let rows: Record<string, unknown>[];
    try {
      rows = toRows(f, part);
    } catch (error) {
      throw translateError(error, f.path, { batch: part.rowGroup });
    }
    yield { rowGroup: part.rowGroup, rowStart: part.rowStart, rows };
  }
}

/** Arrow record batches from row `fromRow` on, one column per plan (planned on the first read). */
export async function* arrowBatches(
  f: OpenFile,
  fromRow: number,
  planned: () => readonly ArrowColumnPlan[],
): AsyncGenerator<ParquetArrowBatch> {
  const plans = planned();
  const fields = plans.map((p) => p.field);
  for await (const part of columnBatches(f, fromRow, plans)) {
    let batch: RecordBatch;
    try {
      batch = makeRecordBatch(
        fields,
        plans.map((p, c) => p.build(part.values[c]!, part.n)),
        part.n,
      );
    } catch (error) {
      throw translateError(error, f.path, { batch: part.rowGroup });
    }
    yield { rowGroup: part.rowGroup, rowStart: part.rowStart, batch };
  }
}
