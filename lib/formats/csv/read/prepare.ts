/**
 * One fromCsv read settled at open: the dialect sniffed (or not), the encoding, the csv-parse
 * options, where to start, the header hook and column names, the casts, and which reader can
 * honour it all, gathered into the {@link CsvReadSpec} a reader reads with.
 */
import type { StageStats } from '../../../core/stage.ts';
import { fileByteOrderMark } from './bom.ts';
import { settleEncoding, type CsvEncoding } from './encoding.ts';
import { readEncoding } from './utf16.ts';
import { sniffFile } from './inspect.ts';
import { headerHook, renamed, uniqueNames } from './names.ts';
import type { CsvPlan } from './options.ts';
import type { CsvReadSpec, CsvStart } from './reader.ts';
import {
  castsOf,
  chooseReader,
  columnsSetting,
  effectiveParseOptions,
  rowCaster,
  skipBlank,
  startOf,
} from './settle.ts';
import type { CsvDialect } from './sniff.ts';

/** A settled read: what to read with, and the header as it is read. */
export interface PreparedRead {
  spec: CsvReadSpec;
  kind: 'fast' | 'csv-parse';
  dialect: CsvDialect | undefined;
  /** Set by the header hook once the file's header is read. */
  header: { seen: boolean };
}

/**
 * Settles the read of `plan` (resumed at `resumed`, when a checkpoint says so).
 * @param specPlan the plan readers read with (the output form negotiated)
 */
export async function prepareRead(
  plan: CsvPlan,
  specPlan: CsvPlan,
  resumed: CsvStart | undefined,
  stats: StageStats,
): Promise<PreparedRead> {
  const dialect =
    plan.sniff || (plan.file !== undefined && plan.skipLines !== undefined) ? await sniffFile(plan) : undefined;
  const encoding = dialect?.encoding ?? (await markedEncoding(plan));
  const parseOptions = effectiveParseOptions(plan, dialect);
  if (dialect === undefined && plan.skipLines !== undefined) parseOptions.from_line = plan.skipLines + 1;
  const start = startOf(dialect, resumed);
  const setting = columnsSetting(plan, dialect, resumed?.columns);
  let names: string[] | undefined = Array.isArray(setting) ? setting : undefined;
  const header = { seen: false };
  const hook = headerHook(plan.expectColumns, plan.stageName, plan.where, (raw, unique) => {
    header.seen = true;
    names = unique;
    const changes = renamed(raw, unique);
    if (changes.length > 0) stats.details.renamed = changes.join(', ');
  });
  const casts = castsOf(plan, dialect, castNames(setting, dialect));
  const spec: CsvReadSpec = {
    plan: specPlan,
    parseOptions,
    encoding,
    columns: setting === true ? hook : setting,
    infer: casts.schema === undefined && casts.infer,
    castRow: rowCaster(casts.schema, casts.infer),
    project: specPlan.project,
    start,
    skipBlankLines: skipBlank(plan, dialect, setting),
    bom: start.byte === 0 ? ((parseOptions.bom as boolean | undefined) ?? true) : false,
    tracking: false,
    names: () => names,
    sniffed: casts.sniffed,
  };
  return { spec, kind: readerKind(plan, parseOptions, encoding), dialect, header };
}

/** The option's encoding, or the one a file's byte order mark names (a UTF-16BE mark is refused). */
async function markedEncoding(plan: CsvPlan): Promise<CsvEncoding> {
  if (plan.file === undefined || plan.compression !== undefined) return plan.encoding;
  const mark = await fileByteOrderMark(plan.file);
  const bomOff = plan.parseOptions.bom === false && mark?.encoding !== 'utf16be';
  return settleEncoding(plan.encoding, bomOff ? undefined : mark, plan.stageName, plan.where).encoding;
}

/** The reader for the settled options (UTF-16 is read as the UTF-8 it is transcoded to: read/utf16.ts). */
function readerKind(plan: CsvPlan, parseOptions: Record<string, unknown>, encoding: CsvEncoding): 'fast' | 'csv-parse' {
  return chooseReader(plan, parseOptions, readEncoding(encoding));
}

/** Names the casts are set up with before the header is read: the sniffed header's (by position for array rows). */
function castNames(setting: boolean | string[], dialect: CsvDialect | undefined): string[] | undefined {
  if (setting === false) return undefined;
  if (Array.isArray(setting)) return setting;
  return dialect?.headerNames ? uniqueNames(dialect.headerNames) : [];
}

/** The parser and what was detected, in stats. */
export function describeRead(stats: StageStats, prepared: PreparedRead, plan: CsvPlan): void {
  const { kind, dialect } = prepared;
  stats.details.parser = kind;
  if (prepared.spec.encoding !== 'utf8') stats.details.encoding = prepared.spec.encoding;
  if (dialect === undefined) return;
  stats.details.delimiter = dialect.delimiter;
  stats.details.quote = dialect.quote;
  stats.details.escape = dialect.escape;
  stats.details.header = plan.columns === undefined ? dialect.header : plan.columns === true;
  if (dialect.comment !== undefined) stats.details.comment = dialect.comment;
  if (dialect.skipLines > 0) stats.details.skipLines = dialect.skipLines;
  stats.details.types = dialect.types.join(',');
}
