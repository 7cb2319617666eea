/**
 * `spillway inspect FILE` for data files: a Parquet file (schema, row groups, statistics,
 * codecs, key-value metadata) or an Arrow IPC file or stream (schema and batches), through the
 * library's `inspectParquet` / `inspectArrow`. `inspect.ts` hands a path here when it is a file.
 */
import { ValidationError } from '../../core/errors.ts';
import { formatBytes, formatExact } from '../../core/format.ts';
import { inspectParquet } from '../../formats/parquet/inspect.ts';
import type { ParquetInspection, ParquetSchemaNode } from '../../formats/parquet/inspect.ts';
import { inspectArrow } from '../../formats/arrow/inspect.ts';
import type { ArrowFieldInfo, ArrowInspection } from '../../formats/arrow/inspect.ts';
import { sniffDataFile, type SniffedFormat } from '../sniff.ts';

/** The format of a data file: by its first bytes (sniff.ts, as `convert` tells it), else its extension. */
function formatOfFile(path: string): SniffedFormat | undefined {
  const sniffed = sniffDataFile(path);
  if (sniffed !== undefined) return sniffed;
  // a damaged file with a telling name goes to its reader, whose error says what is wrong
  if (/\.(arrow|arrows|feather|ipc)$/i.test(path)) return 'arrow';
  if (/\.parquet$/i.test(path)) return 'parquet';
  return undefined;
}

function schemaLines(nodes: readonly ParquetSchemaNode[], indent: string): string[] {
  return nodes.flatMap((n) => {
    const detail = n.details
      ? ` (${Object.entries(n.details)
          .map(([k, v]) => `${k}=${v}`)
          .join(', ')})`
      : '';
    const line = `${indent}${n.name}: ${n.physicalType}${n.annotation ? ` ${n.annotation}` : ''}${detail} ${n.repetition.toLowerCase()}`;
    return [line, ...schemaLines(n.children ?? [], `${indent}  `)];
  });
}

function parquetText(r: ParquetInspection): string {
  const lines = [
    `parquet ${r.path}`,
    `  ${formatExact(r.numRows)} rows in ${r.rowGroups.length} row groups, ${formatBytes(r.byteLength)}, codecs ${r.codecs.join(', ') || '-'}${r.createdBy ? `, written by ${r.createdBy}` : ''}`,
    '  schema:',
    ...schemaLines(r.schema, '    '),
  ];
  for (const c of r.renamed) lines.push(`  renamed column ${c.index}: ${JSON.stringify(c.from)} -> ${c.to}`);
  for (const g of r.rowGroups) {
    lines.push(
      `  row group ${g.index}: ${formatExact(g.numRows)} rows, ${formatBytes(g.compressedBytes)} (${formatBytes(g.uncompressedBytes)} uncompressed)`,
    );
    for (const c of g.columns) {
      const s = c.statistics;
      const stats = s
        ? `  min ${s.min ?? '-'} max ${s.max ?? '-'}${s.nullCount === undefined ? '' : ` nulls ${s.nullCount}`}${s.invalid ? ' (invalid statistics ignored)' : ''}`
        : '';
      const pages = c.pageIndex ? `  page index ${c.pageIndex.columnIndexBytes > 0 ? 'min/max' : 'offsets only'}` : '';
      lines.push(
        `    ${c.path}: ${c.physicalType} ${c.codec} ${c.encodings.join('/')} ${formatBytes(c.compressedBytes)}${stats}${pages}`,
      );
    }
  }
  for (const kv of r.keyValueMetadata)
    lines.push(
      `  metadata ${kv.key} = ${(kv.value ?? '').length > 120 ? `${kv.value!.slice(0, 117)}...` : (kv.value ?? '')}`,
    );
  return lines.join('\n');
}

function fieldLines(fields: readonly ArrowFieldInfo[], indent: string): string[] {
  return fields.flatMap((f) => [
    `${indent}${f.name}: ${f.type}${f.nullable ? '' : ' not null'}`,
    ...fieldLines(f.children ?? [], `${indent}  `),
  ]);
}

function arrowText(r: ArrowInspection): string {
  return [
    `arrow ${r.path} (IPC ${r.ipcFormat} format)`,
    `  ${formatExact(r.numRows)} rows in ${r.batches.length} batches, ${formatBytes(r.byteLength)}`,
    '  schema:',
    ...fieldLines(r.fields, '    '),
    ...r.batches.slice(0, 20).map((b) => `  batch ${b.index}: ${formatExact(b.rows)} rows`),
    ...(r.batches.length > 20 ? [`  ... ${r.batches.length - 20} more batches`] : []),
  ].join('\n');
}

/** Describes a Parquet or Arrow file as text or JSON. */
export async function inspectDataFile(path: string, json: boolean): Promise<string> {
  const format = formatOfFile(path);
  if (format === undefined)
    throw new ValidationError(`${path} is neither a Parquet nor an Arrow file (nor a spill directory)`);
  const report = format === 'parquet' ? await inspectParquet(path) : await inspectArrow(path);
  if (json) return JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2);
  return report.format === 'parquet' ? parquetText(report) : arrowText(report);
}
