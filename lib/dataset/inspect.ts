/**
 * `spillway inspect` on a dataset (a file, glob or directory that is not a spill directory): the
 * files in read order with their sizes, row counts (from Parquet and Arrow footers) and partition
 * values, the partition keys and their types, and the columns (from the footers; text formats
 * have no schema before they are read, so none is listed for them). One file is open at a time.
 */
import { stat } from 'node:fs/promises';
import { openParquet } from '../formats/parquet/reader.ts';
import { openArrowFile } from '../formats/arrow/ipc-reader.ts';
import { expandDataset, type DatasetFile, type DatasetInput } from './expand.ts';
import { isRemoteUrl, redactUrl, remotePathname } from './remote/url.ts';
import { openRemoteBuffer } from './remote/open.ts';
import { readHivePartitions, type HiveType, type HiveValue } from './hive.ts';
import { formatOfName } from './cli-args.ts';

/** What `inspect` reports about a dataset. */
export interface DatasetReport {
  input: DatasetInput;
  files: {
    path: string;
    format: string | undefined;
    bytes: number;
    rows?: number;
    rowGroups?: number;
    partition?: Record<string, string | null>;
  }[];
  partitions: { key: string; type: HiveType; values: number }[];
  columns: { name: string; type: string; files: number }[];
  totalRows?: number;
  totalBytes: number;
}

function show(value: HiveValue): string | null {
  if (value === null) return null;
  if (value instanceof Date) return value.toISOString().slice(0, 10);
  return String(value);
}

/** A file's size: from the listing (S3), one ranged request (HTTP), or `stat`. */
async function sizeOf(file: DatasetFile): Promise<number> {
  if (file.size !== undefined) return file.size;
  if (!isRemoteUrl(file.path)) return (await stat(file.path)).size;
  const buffer = await openRemoteBuffer(file.path);
  await buffer.close();
  return buffer.byteLength;
}

/** Describes the dataset `input` (see the module comment); URLs are shown without their query. */
export async function inspectDataset(input: DatasetInput): Promise<DatasetReport> {
  const files = await expandDataset(input);
  const hive = readHivePartitions(files, 'auto');
  const shown = typeof input === 'string' ? redactUrl(input) : input.map((i) => redactUrl(i));
  const report: DatasetReport = { input: shown, files: [], partitions: [], columns: [], totalBytes: 0 };
  const columns = new Map<string, { type: string; files: number }>();
  let totalRows: number | undefined = 0;
  for (const file of files) {
    const remote = isRemoteUrl(file.path);
    const format = formatOfName(remote ? remotePathname(file.path) : file.path);
    const entry: DatasetReport['files'][number] = {
      path: remote ? redactUrl(file.path) : file.path,
      format,
      bytes: await sizeOf(file),
    };
    const values = hive?.values.get(file.path);
    if (values) entry.partition = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, show(v)]));
    const note = (name: string, type: string): void => {
      const seen = columns.get(name);
      if (seen === undefined) columns.set(name, { type, files: 1 });
      else {
        seen.files++;
        if (!seen.type.split(' | ').includes(type)) seen.type += ` | ${type}`;
      }
    };
    if (format === 'parquet') {
      const reader = await openParquet(file.path);
      try {
        entry.rows = reader.numRows;
        entry.rowGroups = reader.numRowGroups;
        for (const c of reader.columns)
          note(
            c.name,
            c.annotation ? `${c.type} (${c.physicalType} ${c.annotation})` : `${c.type} (${c.physicalType})`,
          );
      } finally {
        await reader.close();
      }
    } else if (format === 'arrow') {
      const handle = await openArrowFile(file.path);
      try {
        entry.rows = handle.numRows;
        for (const f of handle.schema.fields) note(f.name, String(f.type));
      } finally {
        await handle.close();
      }
    }
    if (entry.rows === undefined) totalRows = undefined;
    else if (totalRows !== undefined) totalRows += entry.rows;
    report.totalBytes += entry.bytes;
    report.files.push(entry);
  }
  for (const key of hive?.keys ?? []) {
    const distinct = new Set(files.map((f) => show(hive!.values.get(f.path)![key]!)));
    report.partitions.push({ key, type: hive!.types[key]!, values: distinct.size });
  }
  report.columns = [...columns].map(([name, c]) => ({ name, type: c.type, files: c.files }));
  if (totalRows !== undefined) report.totalRows = totalRows;
  return report;
}

/** The report as text lines. */
export function datasetReportText(r: DatasetReport, formatBytes: (n: number) => string): string {
  const lines = [
    `dataset ${typeof r.input === 'string' ? r.input : r.input.join(' ')}`,
    `  ${r.files.length} files, ${formatBytes(r.totalBytes)}${r.totalRows === undefined ? '' : `, ${r.totalRows.toLocaleString('en-US')} rows`}`,
  ];
  if (r.partitions.length > 0)
    lines.push(`  partitions: ${r.partitions.map((p) => `${p.key} (${p.type}, ${p.values} values)`).join(', ')}`);
  if (r.columns.length > 0)
    lines.push(
      `  columns: ${r.columns.map((c) => `${c.name}: ${c.type}${c.files < r.files.length ? ` (in ${c.files} of ${r.files.length} files)` : ''}`).join(', ')}`,
    );
  for (const f of r.files) {
    const rows =
      f.rows === undefined
        ? ''
        : `  ${f.rows.toLocaleString('en-US')} rows${f.rowGroups === undefined ? '' : ` in ${f.rowGroups} row groups`}`;
    const part = f.partition
      ? `  ${Object.entries(f.partition)
          .map(([k, v]) => `${k}=${v ?? 'null'}`)
          .join(' ')}`
      : '';
    lines.push(`  ${f.path}  ${formatBytes(f.bytes)}${rows}${part}`);
  }
  return lines.join('\n');
}
