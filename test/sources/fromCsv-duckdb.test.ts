/**
 * Differential tests of fromCsv's sniffer against DuckDB's read_csv auto-detection: CSV files in
 * many dialects are read by both with no options; column names, their order and every value must
 * match exactly (all text; and with `cast: 'auto'`, DuckDB's typed values printed as DuckDB prints them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { pipeline, fromCsv, collect, type FromCsvOptions } from '../../index.ts';
import { tempDir } from '../helpers.ts';

const dir = tempDir();
let connection: DuckDBConnection | undefined;
async function duck(): Promise<DuckDBConnection> {
  connection ??= await (await DuckDBInstance.create(':memory:')).connect();
  return connection;
}

const TYPE_OF: Record<string, string> = {
  BIGINT: 'integer',
  DOUBLE: 'double',
  DATE: 'date',
  TIMESTAMP: 'timestamp',
  'TIMESTAMP WITH TIME ZONE': 'timestamptz',
  BOOLEAN: 'boolean',
  VARCHAR: 'text',
};

/** DuckDB's reading: names, detected types, and every value as DuckDB prints it (null for NULL). */
async function duckRead(
  path: string,
  allVarchar: boolean,
): Promise<{ names: string[]; types: string[]; rows: (string | null)[][] }> {
  const c = await duck();
  const from = `read_csv('${path}'${allVarchar ? ', all_varchar = true' : ''})`;
  const described = await c.runAndReadAll(`DESCRIBE SELECT * FROM ${from}`);
  const names = described.getRowsJson().map((r) => String(r[0]));
  const types = described.getRowsJson().map((r) => TYPE_OF[String(r[1])] ?? String(r[1]));
  const select = names.map((n) => `"${n.replace(/"/g, '""')}"::VARCHAR`).join(', ');
  const result = await c.runAndReadAll(`SELECT ${select} FROM ${from}`);
  return { names, types, rows: result.getRowsJson().map((r) => r.map((v) => (v === null ? null : String(v)))) };
}

/** A spillway value printed as DuckDB prints its type. */
function asDuck(value: unknown, type: string): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) {
    const iso = value.toISOString();
    if (type === 'date') return iso.slice(0, 10);
    const [day, time] = iso.slice(0, -1).split('T');
    const printed = `${day} ${time!.replace(/\.?0+$/, '').replace(/:(\d\d)$/, ':$1')}`.replace(
      /(\d\d:\d\d:\d\d)\.$/,
      '$1',
    );
    return type === 'timestamptz' ? `${printed}+00` : printed;
  }
  if (type === 'double') return String(value);
  return String(value);
}

/** Reads `text` with both, and compares names, order and values (`extra`: fromCsv options, e.g. the parser). */
async function compare(name: string, text: string, extra: FromCsvOptions = {}): Promise<void> {
  const path = join(dir, name);
  writeFileSync(path, text);
  // all text: DuckDB's NULL is spillway's empty string
  const plain = await duckRead(path, true);
  const { output, stats } = await pipeline(fromCsv(path, extra), collect());
  const rows = output as Record<string, string>[];
  assert.equal(String(stats.stages[0]?.details.columns ?? ''), plain.names.join(','), `${name}: column names`);
  assert.deepEqual(
    rows.map((r) => plain.names.map((n) => (r[n] === '' ? null : r[n]))),
    plain.rows,
    `${name}: text values`,
  );
  // typed: the same types detected, and the values DuckDB gives
  const typed = await duckRead(path, false);
  const auto = await pipeline(fromCsv(path, { ...extra, cast: 'auto' }), collect());
  assert.equal(String(auto.stats.stages[0]?.details.types), typed.types.join(','), `${name}: detected types`);
  const got = (auto.output as Record<string, unknown>[]).map((r) =>
    typed.names.map((n, c) => asDuck(r[n], typed.types[c]!)),
  );
  const want = typed.rows.map((r) =>
    r.map((v, c) => (v !== null && typed.types[c] === 'double' ? String(Number(v)) : v)),
  );
  assert.deepEqual(got, want, `${name}: typed values`);
}

const CASES: Record<string, string> = {
  'comma.csv': 'id,name,score\n1,ann,1.5\n2,bob,2.25\n3,cid,-3\n',
  'semicolon.csv': 'id;name;score\n1;ann;1.5\n2;bob;2.5\n',
  'pipe.csv': 'a|b|c\nx|1|true\ny|2|false\n',
  'tab.tsv': 'a\tb\nhello world\t10\nbye\t20\n',
  'no-header.csv': '1,2.5,x\n3,4.5,y\n5,6.5,z\n',
  'quoted.csv': 'k,v\n1,"a, b"\n2,"line\nbreak"\n3,"say ""hi"""\n',
  'single-quote.csv': "k,v\n1,'a, b'\n2,'c'\n",
  'duplicates.csv': 'a,a,,1,a_1,a\n1,2,3,4,5,6\n7,8,9,10,11,12\n',
  'integer-names.csv': '2,1,b,10\nx,y,z,w\np,q,r,s\n',
  'mixed.csv': 'n,v\n1,x\n2,3\n007,1.5\n',
  'dates.csv':
    'd,t,u\n2024-01-02,2024-01-02 03:04:05,2024-02-29T23:59:59.123456\n1999-12-31,2000-01-01 00:00:00,2000-01-01 00:00:00.5\n',
  'bools.csv': 'flag,n\ntrue,1\nFALSE,2\n,3\n',
  'bigints.csv': 'id,x\n9007199254740993,1\n-9223372036854775808,2\n',
  'blank-lines.csv': 'a,b\n1,2\n\n3,4\n\n5,6\n',
  'comments.csv': '# exported by a tool\n# second note\na,b\n1,2\n3,4\n',
  'preamble.csv': 'Sales report\nGenerated 2024-01-01\na,b,c\n1,2,3\n4,5,6\n',
  'nulls.csv': 'a,b\n1,\n,2\n3,4\n',
  'dates-day-first.csv': 'd,n\n01/02/2024,1\n03/04/2024,2\n',
  'dates-month-first.csv': 'd,n\n12/31/2024,1\n01/15/2024,2\n',
  'dates-dots.csv': 'd,n\n13.02.2024,1\n03.04.2024,\n',
  'dates-ymd-slash.csv': 'd,n\n2024/02/13,1\n2024/04/03,2\n',
  'one-row-numbers.csv': '1,2,3,4\n',
  'header-only.csv': 'id,name,when\n',
  'trailing-delimiter.csv': 'a,b,\n1,2,\n3,4,\n',
  'crlf.csv': 'a,b\r\n1,x\r\n2,y\r\n',
  'timestamptz.csv':
    'id,t\n1,2026-11-30T10:00:00+01:00\n2,2026-11-30T10:00:00Z\n3,2026-11-30 10:00:00+0100\n4,2026-11-30T10:00:00.123456-05:30\n5,2026-11-30T10:00:00+01\n6,2026-11-30T10:00:00.123456789+01:00\n7,\n',
  'timestamptz-mixed.csv': 't,n\n2026-11-30 10:00:00,1\n2026-11-30T10:00:00+01,2\n2026-03-29T01:30:00.5-0130,3\n',
  'timestamptz-not.csv':
    't,u\n2026-11-30T10:00Z,2026-11-30 10:00:00 +01:00\n2026-11-30T10:00+01:00,2026-11-30T10:00:00z\n',
  'stray-quotes.csv': 'a,b\nab"c,d\ne,f"g\n"h",i\n"j,k",l\n',
  'wide-no-header.csv': `${Array.from({ length: 3 }, (_, r) => Array.from({ length: 11 }, (_, c) => r * 11 + c).join(',')).join('\n')}\n`,
};

test('fromCsv with no options reads what DuckDB read_csv reads, names, order and values', async (t) => {
  for (const [name, text] of Object.entries(CASES)) {
    await t.test(name, () => compare(name, text));
  }
});

/** Spaces and tabs around header names and values: DuckDB's names and types, on both parsers. */
const BLANKS: Record<string, string> = {
  'spaced-header.csv': 'id, name , price\n1,a,2.5\n2,b,3\n',
  'spaced-quoted-header.csv': '" id"," first name ",price\n1,a,2.5\n2,b,3\n',
  'spaced-header-duplicates.csv': 'a, a ,  ,b\n1,2,3,4\n5,6,7,8\n',
  'tabbed-header.csv': '"\ta\t",b\nx,1\ny,2\n',
  'spaced-integers.csv': 'id,n\n 42,1\n7 ,2\n\t 8 \t,3\n-5,4\n',
  'spaced-doubles.csv': 'lead,trail,both\n 3.5,3.5 , 1.5 \n\t.5,2.5\t,2\n -1e3,1,3\n',
  'spaced-dates.csv':
    'd,t,tz\n 2024-01-02, 2024-01-02 10:00:00, 2026-11-30T10:00:00+01:00 \n2024-01-03 ,2024-01-03 11:00:00,2026-11-30T10:00:00Z\n',
  'spaced-trailing-timestamp.csv': 't,n\n2024-01-02 10:00:00 ,1\n2024-01-03 11:00:00,2\n',
  // DuckDB's sniffer: blanks after a timestamp only after its seconds and starting with a space
  'blanks-after-timestamps.csv':
    'a,b,c,d\n2024-01-02 10:00:00 \t,2024-01-02 10:00:00\t,2024-01-02 10:00 ,2026-11-30T10:00:00+01:00\t\n\t2024-01-02 10:00:00.5  ,2024-01-02 10:00:00,2024-01-02 10:00,2026-11-30T10:00:00Z\n',
  'spaced-booleans.csv': 'a,b\n true,1\nfalse ,2\n',
  'spaced-blank-cells.csv': 'a,b\n   ,1\n1,2\n',
  'plus-signs.csv': 'i,d\n+5,+1.5\n6,2.5\n',
  'spaced-mixed.csv': 'id,name,price\n 42,a ,3.5 \n7, b,  1\n',
};

test('blanks around names and values: DuckDB read_csv names and types, on the fast path and csv-parse', async (t) => {
  for (const [name, text] of Object.entries(BLANKS)) {
    for (const parser of ['fast', 'csv-parse'] as const) {
      await t.test(`${name} (${parser})`, () => compare(`${parser}-${name}`, text, { parser }));
    }
  }
});

test('property: tables DuckDB writes (any delimiter, header or not) read back exactly', async () => {
  const c = await duck();
  const column = fc.constantFrom('BIGINT', 'DOUBLE', 'VARCHAR', 'BOOLEAN', 'DATE', 'TIMESTAMP');
  let n = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.tuple(column, fc.constantFrom('a', 'b', '1', '10', '2', 'x y', 'a_1')), {
        minLength: 2,
        maxLength: 5,
      }),
      fc.integer({ min: 3, max: 40 }),
      fc.constantFrom(',', ';', '|', '\t'),
      fc.integer({ min: 0, max: 1000 }),
      fc.boolean(),
      async (columns, rows, delimiter, seed, header) => {
        const types = columns.map(([type]) => type);
        const path = join(dir, `prop-${n++}.csv`);
        const exprs = types.map((type, c) => `${expr(type, c)} AS "${columns[c]![1]}"`);
        function expr(type: string, c: number): string {
          const r = `(hash(i * ${c + 7} + ${seed}) % 1000000007)::BIGINT`;
          switch (type) {
            case 'BIGINT':
              return `(${r} % 2000000 - 1000000)::BIGINT`;
            case 'DOUBLE':
              return `((${r} % 100000) / 64.0 - 700)::DOUBLE`;
            case 'VARCHAR':
              return `'v' || (${r} % 1000)::VARCHAR`;
            case 'BOOLEAN':
              return `(${r} % 2 = 0)`;
            case 'DATE':
              return `(DATE '2000-01-01' + (${r} % 9000)::INTEGER)`;
            default:
              return `(TIMESTAMP '2000-01-01' + to_microseconds((${r} % 900000000000000)::BIGINT))`;
          }
        }
        await c.run(
          `COPY (SELECT ${exprs.join(', ')} FROM range(${rows}) t(i)) TO '${path}' (HEADER ${header}, DELIMITER '${delimiter === '\t' ? '\\t' : delimiter}')`,
        );
        const { readFileSync } = await import('node:fs');
        try {
          await compare(`prop-${n}.csv`, readFileSync(path, 'utf8'));
        } catch (error) {
          console.log(readFileSync(path, 'utf8').slice(0, 300), error);
          throw error;
        }
      },
    ),
    { numRuns: 25 },
  );
});

test("indented comment lines: skipped as DuckDB skips them with comment='#' (spaces before the prefix)", async () => {
  const path = join(dir, 'indented-comments.csv');
  writeFileSync(path, 'a,b\n1,2\n  # note, with a comma\n3,"4\n  # inside quotes"\n#x\n5,6\n');
  const c = await duck();
  const result = await c.runAndReadAll(
    `SELECT a::VARCHAR, b::VARCHAR FROM read_csv('${path}', comment='#', delim=',', quote='"', header=true, auto_detect=false, columns={'a':'VARCHAR','b':'VARCHAR'})`,
  );
  const want = result.getRowsJson().map((r) => r.map(String));
  const { output, stats } = await pipeline(fromCsv(path), collect());
  assert.deepEqual(
    (output as Record<string, string>[]).map((r) => [r.a, r.b]),
    want,
  );
  assert.equal(stats.stages[0]?.details.comment, '#');
  assert.equal(stats.stages[0]?.details.parser, 'fast');
  // declared whole-line comments read the same
  const declared = await pipeline(fromCsv(path, { comment: '#', comment_no_infix: true }), collect());
  assert.deepEqual(declared.output, output);
});

test('a 2-column header over rows that mostly have 3 fields: never shifted data (a clear error, or the 3-field rows only)', async () => {
  const path = join(dir, 'narrow-header.csv');
  writeFileSync(path, 'a,b\n1,2,3\n4,5,6\n7,8\n9,10,11\n');
  // DuckDB reads such a file as one text column; spillway stops at the odd line with its number
  await assert.rejects(
    pipeline(fromCsv(path), collect()),
    (e: Error & { code?: string; context?: { line?: number } }) =>
      e.code === 'ERR_SPILLWAY_CSV_PARSE' && e.context?.line === 4,
  );
  const { output } = await pipeline(fromCsv(path, { onError: 'skip' }), collect());
  assert.deepEqual(output, [
    { column0: '1', column1: '2', column2: '3' },
    { column0: '4', column1: '5', column2: '6' },
    { column0: '9', column1: '10', column2: '11' },
  ]);
});

test('text after a closing quote is an error, as in DuckDB (strict mode); relax_quotes: true keeps it as text', async () => {
  const path = join(dir, 'after-quote.csv');
  writeFileSync(path, 'a,b\n"ab"c,x\n"ok",z\n');
  const c = await duck();
  await assert.rejects(
    c.runAndReadAll(`SELECT * FROM read_csv('${path}', delim=',', quote='"', escape='"', header=true)`),
  );
  await assert.rejects(
    pipeline(fromCsv(path), collect()),
    (e: Error & { code?: string; context?: { line?: number } }) =>
      e.code === 'ERR_SPILLWAY_CSV_PARSE' && e.context?.line === 2,
  );
  const { output } = await pipeline(fromCsv(path, { relax_quotes: true }), collect());
  assert.deepEqual(output, [
    { a: '"ab"c', b: 'x' },
    { a: 'ok', b: 'z' },
  ]);
});
