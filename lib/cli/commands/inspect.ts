/**
 * `spillway inspect DIR`: describes a spill directory from its manifest (rows, batches, files,
 * bytes, compression, schemas); `--verify` also checks every file's checksums; `--json` prints
 * the description as JSON. `spillway inspect FILE.csv` (also .tsv, .gz, .zst) prints what the CSV
 * sniffer detects (lib/formats/csv/read/inspect.ts).
 */
import { existsSync } from 'node:fs';
import { MANIFEST_NAME } from '../../formats/spill/manifest.ts';
import { datasetReportText, inspectDataset } from '../../dataset/inspect.ts';
import { isGlob } from '../../dataset/expand.ts';
import { isRemoteUrl } from '../../dataset/remote/url.ts';
import path from 'node:path';
import { commands } from '../main.ts';
import { IoError, SpillwayError, ValidationError } from '../../core/errors.ts';
import { formatBytes, formatExact } from '../../core/format.ts';
import { readManifest, type SpillManifest } from '../../formats/spill/manifest.ts';
import { verifySpillFile } from '../../formats/spill/reader.ts';
import { inspectCsv, type CsvDescription } from '../../formats/csv/read/inspect.ts';
import { stat } from 'node:fs/promises';
import { inspectDataFile } from './inspect-file.ts';
import { terminalSafe, terminalSafeJson } from '../../observe/terminal-text.ts';

async function isFile(p: string): Promise<boolean> {
  return (await stat(p).catch(() => undefined))?.isFile() ?? false;
}

const USAGE = `Usage: spillway inspect DIR|FILE|DATASET [--verify] [--json]

Describes a spill directory written by toSpill(): rows, batches, files, bytes on disk,
compression ratio, and the schema of each segment. For a CSV file (.csv, .tsv, .txt, with .gz
or .zst): the detected dialect, header and column types. Given a Parquet file: its schema, row
groups, column chunks (codec, encodings, sizes, statistics) and key-value metadata; given an
Arrow IPC file or stream: its schema and batches. Parquet and Arrow are told by their first
bytes, whatever the file's extension.

A glob (quoted) or a directory that is not a spill is described as a dataset: its files in read
order with sizes, row counts (Parquet, Arrow) and partition values, the hive partition keys, and
the columns (from the Parquet and Arrow footers). An https:// URL or an s3:// object, prefix or
glob is described the same way (Parquet and Arrow footers are read with range requests).

Options:
  --verify   (spill directory) read every file and check its size and CRC-32 checksums (exit 1 when one fails)
  --json     print a JSON object instead of text`;

/** The description `inspect --json` prints. */
export interface InspectReport {
  dir: string;
  complete: boolean;
  compression: SpillManifest['compression'];
  numRows: number;
  numBatches: number;
  rowsInMemory: number;
  bytesOnDisk: number;
  rawBytes: number;
  files: {
    name: string;
    segment: number;
    rows: number;
    batches: number;
    bytes: number;
    crc32: string;
    verified?: boolean;
    error?: string;
  }[];
  segments: { fields: { name: string; type: string; nullable: boolean }[] }[];
}

/** Builds the inspect report for `dir` (verifying files when asked). */
export async function inspectSpill(dir: string, verify: boolean): Promise<InspectReport> {
  const abs = path.resolve(dir);
  const m = await readManifest(abs);
  const files: InspectReport['files'] = [];
  for (const f of m.files) {
    const row: InspectReport['files'][number] = {
      name: f.name,
      segment: f.segment,
      rows: f.rows,
      batches: f.batches,
      bytes: f.bytes,
      crc32: f.crc32,
    };
    if (verify) {
      try {
        await verifySpillFile(abs, f);
        row.verified = true;
      } catch (error) {
        row.verified = false;
        row.error = error instanceof SpillwayError ? `${error.message} [${error.code}]` : String(error);
      }
    }
    files.push(row);
  }
  return {
    dir: abs,
    complete: m.complete,
    compression: m.compression,
    numRows: m.numRows,
    numBatches: m.numBatches,
    rowsInMemory: m.rowsInMemory,
    bytesOnDisk: m.bytesOnDisk,
    rawBytes: m.files.reduce((n, f) => n + f.rawBytes, 0),
    files,
    segments: m.segments.map((s) => ({ fields: s.fields })),
  };
}

function text(r: InspectReport): string {
  const ratio = r.bytesOnDisk > 0 ? (r.rawBytes / r.bytesOnDisk).toFixed(2) : '-';
  const lines = [
    `spill ${r.dir}`,
    `  ${r.complete ? 'complete' : `INCOMPLETE (${formatExact(r.rowsInMemory)} rows were kept in memory or the writer did not finish)`}`,
    `  rows ${formatExact(r.numRows)} in ${r.numBatches} batches, ${r.files.length} files, ${formatBytes(r.bytesOnDisk)} on disk (${formatBytes(r.rawBytes)} uncompressed Arrow, ${r.compression}, ratio ${ratio})`,
  ];
  for (const [i, s] of r.segments.entries())
    lines.push(
      `  segment ${i}: ${s.fields.map((f) => `${f.name}: ${f.type}${f.nullable ? '' : ' not null'}`).join(', ')}`,
    );
  for (const f of r.files) {
    const check = f.verified === undefined ? '' : f.verified ? '  ok' : `  FAILED: ${f.error}`;
    lines.push(
      `  ${f.name}  segment ${f.segment}  ${formatExact(f.rows)} rows  ${f.batches} batches  ${formatBytes(f.bytes)}  crc32 ${f.crc32}${check}`,
    );
  }
  return lines.join('\n');
}

const CSV_FILE = /\.(csv|tsv|txt)(\.gz|\.zst)?$/i;

function csvText(d: CsvDescription): string {
  const { delimiter, quote, escape, comment, skipLines } = d.dialect;
  return [
    `csv ${d.file}${d.compression ? ` (${d.compression})` : ''}`,
    `  delimiter ${JSON.stringify(delimiter)}  quote ${JSON.stringify(quote)}  escape ${JSON.stringify(escape)}  comment ${comment === null ? 'none' : JSON.stringify(comment)}  skip ${skipLines} lines  header ${d.header ? 'yes' : 'no'}`,
    `  ${formatExact(d.rowsSampled)} rows sampled from ${formatBytes(d.sampleBytes)}${d.complete ? ' (the whole file)' : ''}`,
    ...d.columns.map(
      (c) =>
        `  ${c.name}: ${c.type}${c.header !== null && c.header !== c.name ? ` (header ${JSON.stringify(c.header)})` : ''}`,
    ),
  ].join('\n');
}

commands.set('inspect', {
  summary: 'describe a spill directory, a CSV, Parquet or Arrow file, or a dataset (glob, folder, URL)',
  usage: USAGE,
  async run(argv) {
    const positional = argv.filter((a) => !a.startsWith('--'));
    const flags = argv.filter((a) => a.startsWith('--'));
    for (const f of flags)
      if (f !== '--verify' && f !== '--json')
        throw new ValidationError(`unknown option ${f} (see spillway inspect --help)`);
    if (positional.length !== 1)
      throw new ValidationError(
        `expected one file, dataset or spill directory, got ${positional.length} arguments (see spillway inspect --help)`,
      );
    const json = flags.includes('--json');
    // everything printed comes from the file (names, metadata, paths): escaped for the terminal
    const print = (value: unknown, render: () => string): void => {
      process.stdout.write(`${json ? terminalSafeJson(JSON.stringify(value, null, 2)) : terminalSafe(render())}\n`);
    };
    const target = positional[0]!;
    // https:// and s3:// inputs are datasets: their files, sizes, row counts, partitions and columns
    if (isRemoteUrl(target)) {
      if (flags.includes('--verify')) throw new ValidationError('--verify checks spill directories; this is not one');
      const dataset = await inspectDataset(target);
      print(dataset, () => datasetReportText(dataset, formatBytes));
      return 0;
    }
    if (CSV_FILE.test(target) && !isGlob(target)) {
      const csv = await inspectCsv(target);
      print(csv, () => csvText(csv));
      return 0;
    }
    if (!isGlob(target) && (await isFile(target))) {
      const description = await inspectDataFile(target, json);
      process.stdout.write(`${json ? terminalSafeJson(description) : terminalSafe(description)}\n`);
      return 0;
    }
    // a path that does not exist and names a file (an extension): said so, not "Not a spill directory"
    if (!isGlob(target) && !existsSync(target) && /\.[A-Za-z0-9]+$/.test(path.basename(target)))
      throw new IoError(`Cannot inspect ${target}: no such file`, { file: target });
    // any other path that does not exist (and is no glob) gets the spill error: "Not a spill directory"
    if (!existsSync(path.join(target, MANIFEST_NAME)) && (isGlob(target) || existsSync(target))) {
      if (flags.includes('--verify')) throw new ValidationError('--verify checks spill directories; this is not one');
      const dataset = await inspectDataset(target);
      print(dataset, () => datasetReportText(dataset, formatBytes));
      return 0;
    }
    const report = await inspectSpill(target, flags.includes('--verify'));
    print(report, () => text(report));
    return report.files.some((f) => f.verified === false) ? 1 : 0;
  },
});
